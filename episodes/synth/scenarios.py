"""Scripted phone tasks for synthetic episodes: each draws its screens and names the gold action on each.

A scenario takes a `Recorder` and a seeded `random.Random`, draws one screen per step and records
the action taken on it; boxes come from the widgets just drawn, so they are exact. Together the
scenarios use every action type; `SCENARIOS` is ordered so that any four consecutive episodes do.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from actions import (
    Back,
    Click,
    Inquiry,
    LongClick,
    OpenApp,
    Swipe,
    TaskCompleted,
    TaskImpossible,
    TypeText,
    Wait,
)
from actions.types import Action
from episodes.synth.draw import Canvas, Theme

PALETTE = [
    (255, 111, 0),
    (230, 57, 70),
    (7, 193, 96),
    (18, 150, 219),
    (255, 196, 0),
    (94, 92, 230),
    (52, 199, 89),
    (255, 59, 48),
    (0, 122, 255),
    (175, 82, 222),
    (255, 149, 0),
    (88, 86, 214),
]
LAUNCHER = [
    "微信",
    "淘宝",
    "京东",
    "设置",
    "高德地图",
    "百度地图",
    "Notes",
    "相机",
    "日历",
    "QQ",
    "钉钉",
    "拼多多",
    "支付宝",
    "抖音",
    "Chrome",
    "Gmail",
]


@dataclass
class Recorder:
    """Collects the screens and gold actions of one episode."""

    rng: random.Random
    size: tuple[int, int]
    app: str = ""
    task: str = ""
    steps: list[tuple[Canvas, Action]] = field(default_factory=list)
    minute: int = 0
    battery: int = 80
    layout: tuple | None = None

    def __post_init__(self) -> None:
        self.minute = self.rng.randrange(7 * 60, 22 * 60)
        self.battery = self.rng.randrange(25, 100)

    def screen(self, theme: Theme, dark_status: bool = False) -> tuple[Canvas, int]:
        """A fresh canvas with the status bar drawn; returns it and the bar's bottom edge."""
        canvas = Canvas(self.size, theme)
        clock = f"{self.minute // 60:02d}:{self.minute % 60:02d}"
        return canvas, canvas.status_bar(clock, self.battery, dark=dark_status)

    def add(self, canvas: Canvas, action: Action) -> None:
        self.steps.append((canvas, action))
        self.minute += 1

    def home(self) -> tuple[Canvas, dict]:
        """The launcher with this episode's app among others (the same layout every time in an episode)."""
        if self.layout is None:
            others = [a for a in LAUNCHER if a != self.app]
            apps = self.rng.sample(others, 11) + [self.app]
            self.rng.shuffle(apps)
            colors = self.rng.sample(PALETTE * 2, len(apps))
            wall = (self.rng.randrange(40, 90), self.rng.randrange(60, 120), self.rng.randrange(110, 170))
            self.layout = (list(zip(apps, colors, strict=True)), wall)
        wall = self.layout[1]
        canvas, _ = self.screen(Theme(primary=wall, background=wall), dark_status=True)
        boxes = canvas.home_screen(self.layout[0])
        return canvas, boxes

    def open_app(self) -> None:
        canvas, _ = self.home()
        self.add(canvas, OpenApp(app=self.app, description="打开APP"))


def _theme(rng: random.Random, base: tuple[int, int, int]) -> Theme:
    jitter = tuple(max(0, min(255, c + rng.randrange(-12, 13))) for c in base)
    return Theme(primary=jitter)  # type: ignore[arg-type]


def shop(rec: Recorder, rng: random.Random) -> None:
    """Search a product, scroll, open it, ask which colour, add to cart."""
    rec.app = rng.choice(["淘宝", "京东", "拼多多"])
    query = rng.choice(["蓝牙耳机", "保温杯", "机械键盘", "running shoes", "充电宝", "台灯"])
    brands = ["小米", "Anker", "华为", "Sony", "罗技", "倍思", "绿联", "Nike", "飞利浦", "公牛"]
    items = [f"{b} {query}" for b in rng.sample(brands, 8)]
    target = items[rng.randrange(4, 8)]
    colors = rng.sample(["黑色", "白色", "蓝色", "粉色", "灰色", "绿色"], rng.randrange(2, 5))
    answer = rng.randrange(len(colors))
    # Drawn once so an item looks the same on every screen it appears on.
    meta = {
        name: (f"月销 {rng.randrange(100, 9000)}+  ¥{rng.randrange(19, 999)}", rng.choice(PALETTE))
        for name in items
    }
    price, photo = meta[target][0].split("¥")[1], rng.choice(PALETTE)
    rec.task = f"打开{rec.app}，搜索“{query}”，在结果中找到“{target}”，确认颜色后加入购物车。"
    theme = _theme(rng, (255, 90, 0))
    rec.open_app()

    c, top = rec.screen(theme)
    field = c.search_bar(top + c.s(30), "", "搜索商品 / Search")["field"]
    for i in range(4):
        x = c.s(40) + (i % 2) * c.s(510)
        y = top + c.s(190) + (i // 2) * c.s(760)
        c.card(
            (x, y, x + c.s(490), y + c.s(720)),
            rng.choice(brands) + " 推荐",
            f"¥{rng.randrange(19, 999)}",
            rng.choice(PALETTE),
        )
    c.bottom_nav(["首页", "分类", "购物车", "我的"], 0)
    rec.add(c, Click(box=field, description="点击搜索框"))

    c, top = rec.screen(theme)
    c.search_bar(top + c.s(30), "", "搜索商品 / Search", focused=True, with_button=True)
    c.text((c.s(48), top + c.s(240)), "历史搜索", 38, fill=theme.muted)
    c.keyboard()
    rec.add(c, TypeText(text=query, description=f"输入{query}"))

    c, top = rec.screen(theme)
    search = c.search_bar(top + c.s(30), query, "", focused=True, with_button=True)["search"]
    c.keyboard()
    rec.add(c, Click(box=search, description="点击搜索"))

    def results(first: int) -> tuple[Canvas, dict[str, tuple[int, int, int, int]], tuple[int, int]]:
        c, top = rec.screen(theme)
        c.search_bar(top + c.s(30), query, "", with_button=True)
        boxes = {}
        y = top + c.s(190)
        for name in items[first : first + 4]:
            boxes[name] = c.list_row(y, name, meta[name][0], icon=meta[name][1], height=330)
            y += c.s(340)
        return c, boxes, (top + c.s(190), y)

    c, _, (list_top, list_bottom) = results(0)
    x = c.width // 2 + rng.randrange(-c.s(200), c.s(200))
    start = (x, list_bottom - c.s(120) - rng.randrange(0, c.s(100)))
    end = (x + rng.randrange(-c.s(30), c.s(30)), list_top + c.s(80) + rng.randrange(0, c.s(100)))
    rec.add(c, Swipe(start=start, end=end, description="向上滑动"))

    c, boxes, _ = results(4)
    rec.add(c, Click(box=boxes[target], description=f"点击{target}"))

    def detail(selected: int | None) -> tuple[Canvas, dict[str, tuple[int, int, int, int]]]:
        c, top = rec.screen(theme)
        bar = c.app_bar(top, "商品详情")
        y = bar["bar"][3]
        c.draw.rectangle((0, y, c.width, y + c.s(900)), fill=photo)
        c.text((c.s(48), y + c.s(980)), target, 52)
        c.text((c.s(48), y + c.s(1070)), f"¥{price}", 56, fill=(230, 60, 40))
        c.text((c.s(48), y + c.s(1180)), "颜色 / Color", 38, fill=theme.muted)
        boxes = {}
        for i, color in enumerate(colors):
            bx = c.s(48) + i * c.s(240)
            boxes[color] = c.button(
                (bx, y + c.s(1230), bx + c.s(210), y + c.s(1330)),
                color,
                fill=theme.primary if i == selected else (232, 232, 236),
                fg=(255, 255, 255) if i == selected else theme.text,
                size=36,
            )
        boxes["cart"] = c.button(
            (c.s(40), c.height - c.s(190), c.width - c.s(40), c.height - c.s(50)), "加入购物车"
        )
        return c, boxes

    c, _ = detail(None)
    rec.add(
        c,
        Inquiry(
            question=f"“{target}”有{len(colors)}种颜色，请问您想要哪一种？",
            candidates=tuple(colors),
            pic_describe=f"商品详情页显示了{target}，颜色可选{'、'.join(colors)}。",
            answer_index=answer,
            description="反问",
        ),
    )

    c, boxes = detail(answer)
    rec.add(c, Click(box=boxes["cart"], description="点击加入购物车"))

    c, _ = detail(answer)
    c.button(
        (c.width // 2 - c.s(260), c.height // 2 - c.s(70), c.width // 2 + c.s(260), c.height // 2 + c.s(70)),
        "已加入购物车",
        fill=(60, 60, 64),
        size=40,
    )
    rec.add(c, TaskCompleted(summary=f"已将{colors[answer]}的{target}加入购物车。", description="任务完成"))


def chat(rec: Recorder, rng: random.Random) -> None:
    """Delete a conversation with a long press, then go back home."""
    rec.app = rng.choice(["微信", "QQ", "钉钉"])
    names = rng.sample(
        ["张伟", "王芳", "李娜", "Alice", "Bob", "刘洋", "陈静", "家人群", "项目组", "Kevin", "赵磊"], 8
    )
    target = names[rng.randrange(1, 7)]
    messages = [
        "好的，明天见",
        "[图片]",
        "收到",
        "See you at 3pm",
        "周末一起吃饭？",
        "文件已发送",
        "哈哈哈",
        "OK",
    ]
    times = {name: f"{rng.randrange(8, 23)}:{rng.randrange(60):02d}" for name in names}
    rec.task = f"在{rec.app}中删除与“{target}”的聊天，然后返回桌面。"
    theme = _theme(rng, (7, 193, 96))
    rec.open_app()

    def chat_list(shown: list[str]) -> tuple[Canvas, dict[str, tuple[int, int, int, int]]]:
        c, top = rec.screen(theme)
        y = c.app_bar(top, rec.app, back=False)["bar"][3]
        boxes = {}
        for name in shown:
            i = names.index(name)
            boxes[name] = c.list_row(
                y, name, messages[i % len(messages)], icon=PALETTE[i % len(PALETTE)], trailing=times[name]
            )
            y += c.s(190)
        c.bottom_nav(["消息", "通讯录", "发现", "我"], 0)
        return c, boxes

    c, boxes = chat_list(names)
    rec.add(c, LongClick(box=boxes[target], description=f"长按{target}的聊天"))

    c, boxes = chat_list(names)
    c.dim()
    menu = c.menu(boxes[target][3], ["标为未读", "置顶该聊天", "不显示该聊天", "删除该聊天"])
    rec.add(c, Click(box=menu["删除该聊天"], description="点击删除该聊天"))

    c, _ = chat_list(names)
    buttons = c.dialog("删除聊天", "将同时删除与该联系人的聊天记录", ["取消", "删除"])
    rec.add(c, Click(box=buttons["删除"], description="点击删除"))

    c, _ = chat_list([n for n in names if n != target])
    rec.add(c, Back(description="回退"))

    c, _ = rec.home()
    rec.add(c, TaskCompleted(summary=f"已删除与{target}的聊天并返回桌面。", description="任务完成"))


def map_search(rec: Recorder, rng: random.Random) -> None:
    """Search a place that does not exist: the task cannot be done."""
    rec.app = rng.choice(["高德地图", "百度地图"])
    place = rng.choice(["火星大酒店", "Atlantis Mall", "不存在路 999 号", "月亮湾 Z 座", "Hogwarts Station"])
    rec.task = f"在{rec.app}中查找“{place}”并开始导航。"
    theme = _theme(rng, (18, 150, 219))
    rec.open_app()

    c, top = rec.screen(theme)
    c.draw.rectangle((0, top, c.width, c.height), fill=(232, 236, 228))
    for _ in range(14):
        if rng.random() < 0.5:
            y = rng.randrange(top, c.height)
            c.draw.line((0, y, c.width, y + rng.randrange(-200, 200)), fill=(255, 255, 255), width=c.s(24))
        else:
            x = rng.randrange(0, c.width)
            c.draw.line((x, top, x + rng.randrange(-200, 200), c.height), fill=(255, 236, 180), width=c.s(18))
    field = c.search_bar(top + c.s(30), "", "搜索地点、公交、地铁")["field"]
    c.bottom_nav(["首页", "附近", "消息", "我的"], 0)
    rec.add(c, Click(box=field, description="点击搜索框"))

    c, top = rec.screen(theme)
    c.search_bar(top + c.s(30), "", "搜索地点、公交、地铁", focused=True, with_button=True)
    c.keyboard()
    rec.add(c, TypeText(text=place, description=f"输入{place}"))

    c, top = rec.screen(theme)
    c.search_bar(top + c.s(30), place, "", with_button=True)
    c.text((c.width // 2, top + c.s(600)), f"未找到“{place}”相关结果", 44, fill=theme.muted, anchor="mm")
    c.text((c.width // 2, top + c.s(690)), "No results found", 36, fill=theme.muted, anchor="mm")
    rec.add(c, TaskImpossible(reason=f"地图中搜索不到“{place}”，无法导航。", description="任务无法完成"))


def wifi(rec: Recorder, rng: random.Random) -> None:
    """Turn WLAN on, wait for the scan, join a network with a password."""
    rec.app = "设置"
    networks = rng.sample(
        [
            "Home-5G",
            "TP-LINK_8A2C",
            "CMCC-Guest",
            "Office WiFi",
            "ChinaNet-xyz",
            "小米路由器",
            "Starbucks",
            "HUAWEI-1F",
        ],
        5,
    )
    target = networks[rng.randrange(5)]
    password = rng.choice(["12345678", "abc@2024", "wifi8888", "happy-home"])
    rec.task = f"打开WLAN，连接“{target}”，密码是 {password}。"
    theme = _theme(rng, (0, 122, 255))
    rec.open_app()

    c, top = rec.screen(theme)
    y = c.app_bar(top, "设置 Settings", back=False)["bar"][3]
    rows = {}
    for i, (name, sub) in enumerate(
        [
            ("WLAN", "已关闭"),
            ("蓝牙 Bluetooth", "已开启"),
            ("移动网络", ""),
            ("显示和亮度", ""),
            ("声音和振动", ""),
            ("通知", ""),
            ("电池", f"{rec.battery}%"),
        ]
    ):
        rows[name] = c.list_row(y, name, sub, icon=PALETTE[(i * 5) % len(PALETTE)])
        y += c.s(190)
    rec.add(c, Click(box=rows["WLAN"], description="点击WLAN"))

    def wlan(on: bool, shown: list[str], status: str = "") -> tuple[Canvas, tuple, dict]:
        c, top = rec.screen(theme)
        y = c.app_bar(top, "WLAN")["bar"][3]
        row = c.list_row(y, "WLAN", "", height=180)
        switch = c.toggle(c.width - c.s(60), (row[1] + row[3]) // 2, on)
        y = row[3] + c.s(40)
        boxes = {}
        if status:
            c.text((c.width // 2, y + c.s(120)), status, 40, fill=theme.muted, anchor="mm")
        for name in shown:
            boxes[name] = c.list_row(y, name, "已连接" if name == status else "加密", height=170)
            y += c.s(170)
        return c, switch, boxes

    c, switch, _ = wlan(False, [], "开启WLAN以查看可用网络")
    rec.add(c, Click(box=switch, description="点击WLAN开关"))

    c, _, _ = wlan(True, [], "正在搜索… Scanning")
    rec.add(c, Wait(description="等待"))

    c, _, boxes = wlan(True, networks)
    rec.add(c, Click(box=boxes[target], description=f"点击{target}"))

    c, _, _ = wlan(True, networks)
    c.dialog(target, "请输入密码 / Password", ["取消", "连接"], field=("", "密码"))
    c.keyboard()
    rec.add(c, TypeText(text=password, description=f"输入{password}"))

    c, _, _ = wlan(True, networks)
    buttons = c.dialog(target, "请输入密码 / Password", ["取消", "连接"], field=("•" * len(password), "密码"))
    rec.add(c, Click(box=buttons["连接"], description="点击连接"))

    c, _, _ = wlan(True, [target] + [n for n in networks if n != target])
    rec.add(c, TaskCompleted(summary=f"已连接到WLAN“{target}”。", description="任务完成"))


def notes(rec: Recorder, rng: random.Random) -> None:
    """An English app: write a new note, save it, go back to the list."""
    rec.app = "Notes"
    text = rng.choice(
        [
            "Buy milk and eggs",
            "Call mom at 8pm",
            "明天 10 点开会",
            "Pay the electricity bill",
            "Book train tickets",
        ]
    )
    existing = rng.sample(
        ["Shopping list", "Meeting notes", "Ideas", "Travel plan", "读书笔记", "Recipes"], 4
    )
    edited = {name: f"Edited {rng.randrange(1, 28)} Nov" for name in existing + [text]}
    rec.task = f"在Notes中新建一条笔记，内容为“{text}”，保存后返回笔记列表。"
    theme = _theme(rng, (245, 170, 0))
    rec.open_app()

    def note_list(items: list[str]) -> tuple[Canvas, tuple]:
        c, top = rec.screen(theme)
        y = c.app_bar(top, "Notes", back=False)["bar"][3]
        for name in items:
            c.list_row(y, name, edited[name], height=200)
            y += c.s(200)
        new = c.button(
            (c.width - c.s(360), c.height - c.s(260), c.width - c.s(60), c.height - c.s(120)), "+ New"
        )
        return c, new

    c, new = note_list(existing)
    rec.add(c, Click(box=new, description="点击New"))

    c, top = rec.screen(theme)
    c.app_bar(top, "New note", action="Done")
    c.text_field(
        (c.s(40), top + c.s(200), c.width - c.s(40), top + c.s(340)), "", "Start typing…", focused=True
    )
    c.keyboard()
    rec.add(c, TypeText(text=text, description=f"输入{text}"))

    c, top = rec.screen(theme)
    bar = c.app_bar(top, "New note", action="Done")
    c.text_field((c.s(40), top + c.s(200), c.width - c.s(40), top + c.s(340)), text, "", focused=True)
    c.keyboard()
    rec.add(c, Click(box=bar["action"], description="点击Done"))

    c, top = rec.screen(theme)
    c.app_bar(top, text[:18])
    c.text((c.s(48), top + c.s(260)), text, 44)
    c.text((c.s(48), top + c.s(340)), "Saved · 已保存", 34, fill=theme.muted)
    rec.add(c, Back(description="回退"))

    c, _ = note_list([text] + existing)
    rec.add(c, TaskCompleted(summary=f"已新建笔记“{text}”并返回列表。", description="任务完成"))


SCENARIOS: list[Callable[[Recorder, random.Random], None]] = [shop, chat, map_search, wifi, notes]
