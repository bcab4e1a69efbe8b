"""The Gradio replay app: wiring of `ui.replay`, `ui.views` and `ui.live` to components.

Only rendered overlays (Gradio's cache) and screenshots under the episodes folder and the results'
folders can be served: `launch_app` passes exactly those folders as `allowed_paths`, and every
screenshot path a step names is checked by `ui.paths.resolve_inside` before it is opened.
"""

import logging
from typing import Any

from ui.live import AgentFactory, LiveConfig, endpoint_agent, run_live, unavailable_reason
from ui.overlay import LIVE_COLOR, marks_for_action
from ui.replay import Filters, ReplayData, action_types, apps, episode_label, episode_rows, shown_positions
from ui.views import RUN_COLOR_NAMES, gallery_items, metrics_summary, render_step

logger = logging.getLogger(__name__)

ANY = "any"
MAX_RUNS = 2


def make_filters(failures_only: bool, action_type: str | None, app: str | None) -> Filters:
    """Filters from the page's controls ("any" or empty means no filter)."""
    return Filters(
        failures_only=bool(failures_only),
        action_type=None if action_type in (None, "", ANY) else action_type,
        app=None if app in (None, "", ANY) else app,
    )


def episode_choices(data: ReplayData, filters: Filters) -> list[tuple[str, str]]:
    """(label, episode id) pairs for the picker: every episode with a step the filters keep."""
    labels = [run.label for run in data.runs]
    return [(episode_label(row, labels), row.episode_id) for row in episode_rows(data, filters)]


def show_step(
    data: ReplayData, episode_id: str | None, position: int | float | None, filters: Filters
) -> dict:
    """Everything the page shows for one step, as plain values keyed by component name."""
    choices = episode_choices(data, filters)
    ids = [value for _, value in choices]
    if episode_id not in ids:
        episode_id = ids[0] if ids else None
    empty = {
        "episode": episode_id,
        "choices": choices,
        "position": 0,
        "n_shown": 0,
        "header": "No step matches the filters.",
        "previous": None,
        "current": None,
        "gold": "",
        "runs": [""] * MAX_RUNS,
        "raw": [""] * MAX_RUNS,
        "gallery": [],
        "episode_metrics": "",
        "verdicts": [],
    }
    if episode_id is None:
        return empty
    shown = shown_positions(data, episode_id, filters)
    position = min(max(int(position or 0), 0), len(shown) - 1)
    view = render_step(data, episode_id, position, shown)
    items, _ = gallery_items(data, episode_id, shown)
    step_ids = [s.step_id for s in data.steps(episode_id)]
    episode_md = metrics_summary(
        [(run.label, run.episode_metrics(episode_id, step_ids)) for run in data.runs], f"Episode {episode_id}"
    )
    pad = MAX_RUNS - len(view.runs)
    return {
        **empty,
        "episode": episode_id,
        "position": position,
        "n_shown": len(shown),
        "header": view.header,
        "previous": view.previous,
        "current": view.current,
        "gold": view.gold,
        "runs": view.runs + [""] * pad,
        "raw": view.raw + [""] * pad,
        "gallery": items,
        "episode_metrics": episode_md,
        "verdicts": view.verdicts,
    }


def build_app(
    data: ReplayData, live: LiveConfig | None = None, agent_factory: AgentFactory = endpoint_agent
) -> Any:
    """The Gradio Blocks app over `data`. `agent_factory(live)` builds the agent "Run this step" uses."""
    import gradio as gr

    live = live or LiveConfig()
    reason = unavailable_reason(live)
    agents: dict[str, Any] = {}

    def outputs_of(result: dict) -> tuple:
        n = result["n_shown"]
        return (
            gr.update(choices=result["choices"], value=result["episode"]),
            # A Gradio slider needs minimum < maximum; with one step shown it is 1..2 and locked.
            gr.update(minimum=1, maximum=max(n, 2), value=result["position"] + 1, interactive=n > 1),
            result["header"],
            result["previous"],
            result["current"],
            result["gold"],
            *result["runs"],
            *result["raw"],
            result["gallery"],
            result["episode_metrics"],
            "",
        )

    def show(episode_id, number, failures_only, action_type, app) -> tuple:
        filters = make_filters(failures_only, action_type, app)
        return outputs_of(show_step(data, episode_id, (number or 1) - 1, filters))

    def move(delta: int):
        def handler(episode_id, number, failures_only, action_type, app) -> tuple:
            return show(episode_id, (number or 1) + delta, failures_only, action_type, app)

        return handler

    def pick(episode_id, failures_only, action_type, app, evt: gr.SelectData) -> tuple:
        # Gallery thumbnails stand for positions among the shown steps with a readable screenshot.
        filters = make_filters(failures_only, action_type, app)
        known = episode_id in data.episodes
        shown = shown_positions(data, episode_id, filters) if known else []
        _, positions = gallery_items(data, episode_id, shown) if known else ([], [])
        position = positions[evt.index] if 0 <= evt.index < len(positions) else 0
        return outputs_of(show_step(data, episode_id, position, filters))

    async def run_this_step(episode_id, number, failures_only, action_type, app) -> tuple:
        if reason is not None:
            return gr.update(), f"_{reason}_", ""
        filters = make_filters(failures_only, action_type, app)
        shown = shown_positions(data, episode_id, filters) if episode_id in data.episodes else []
        if not shown:
            return gr.update(), "_No step is shown: nothing to run._", ""
        position = min(max(int(number or 1) - 1, 0), len(shown) - 1)
        step = data.steps(episode_id)[shown[position]]
        if "agent" not in agents:
            agents["agent"] = agent_factory(live)
        answer = await run_live(agents["agent"], step, protocol=live.protocol, title=f"Live: {live.model}")
        extra = marks_for_action(answer.action, LIVE_COLOR, label="live")
        view = render_step(data, episode_id, position, shown, extra_marks=extra)
        return view.current, answer.markdown, answer.raw

    types = [ANY, *action_types(data)]
    app_names = [ANY, *apps(data)]
    first = show_step(data, None, 0, Filters())
    run_labels = [f"{run.label} = {run.path.name} ({RUN_COLOR_NAMES[i]})" for i, run in enumerate(data.runs)]
    # Every shown step writes its overlays into Gradio's cache; drop those older than an hour.
    with gr.Blocks(title="phone-r1 replay", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            "## phone-r1 replay\n"
            f"Episodes: `{data.root}` · {len(data.episodes)} episodes · "
            + (" · ".join(run_labels) if run_labels else "no results file: gold actions only")
            + "\n\nGold box **green**; predictions **red** (A) and **blue** (B); live answer **orange**."
        )
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                failures = gr.Checkbox(label="Failures only", value=False, interactive=bool(data.runs))
                type_filter = gr.Dropdown(types, value=ANY, label="Gold action type")
                app_filter = gr.Dropdown(app_names, value=ANY, label="App")
                episode = gr.Dropdown(
                    first["choices"], value=first["episode"], label="Episode (step success rate)"
                )
                gr.Markdown(metrics_summary([(run.label, run.metrics) for run in data.runs], "Overall"))
                episode_metrics = gr.Markdown(first["episode_metrics"])
            with gr.Column(scale=4):
                header = gr.Markdown(first["header"], elem_id="step-header")
                with gr.Row():
                    prev_btn = gr.Button("◀ Previous", scale=0, elem_id="prev-step")
                    slider = gr.Slider(
                        1,
                        max(first["n_shown"], 2),
                        value=1,
                        step=1,
                        label="Step (of shown)",
                        interactive=first["n_shown"] > 1,
                        elem_id="step-slider",
                    )
                    next_btn = gr.Button("Next ▶", scale=0, elem_id="next-step")
                gallery = gr.Gallery(
                    first["gallery"],
                    label="Steps",
                    elem_id="steps-gallery",
                    columns=10,
                    height=170,
                    allow_preview=False,
                    object_fit="contain",
                )
                with gr.Row():
                    # PNG, not Gradio's default WebP: lossy compression smears the 3-px outlines.
                    previous = gr.Image(
                        first["previous"], label="Previous screen", type="pil", height=640, format="png"
                    )
                    current = gr.Image(
                        first["current"], label="Current screen", type="pil", height=640, format="png"
                    )
                    with gr.Column():
                        gold = gr.Markdown(first["gold"], elem_id="gold")
                        run_md = [gr.Markdown(first["runs"][i], elem_id=f"run-{i}") for i in range(MAX_RUNS)]
                        live_md = gr.Markdown("", elem_id="live")
                with gr.Row():
                    run_btn = gr.Button(
                        "Run this step", variant="primary", interactive=reason is None, scale=0
                    )
                    gr.Markdown(
                        f"_{reason}_" if reason else f"Endpoint `{live.base_url}`, model `{live.model}`"
                    )
                with gr.Accordion("Raw model output", open=False):
                    raw_boxes = [
                        gr.Textbox(first["raw"][i], label=f"run {chr(65 + i)}", lines=6)
                        for i in range(MAX_RUNS)
                    ]
                    live_raw = gr.Textbox("", label="live", lines=6)
                if data.runs:
                    with gr.Accordion("All metrics (compute_metrics)", open=False):
                        for run in data.runs:
                            gr.JSON(run.metrics, label=f"run {run.label}")

        inputs = [episode, slider, failures, type_filter, app_filter]
        outputs = [
            episode,
            slider,
            header,
            previous,
            current,
            gold,
            *run_md,
            *raw_boxes,
            gallery,
            episode_metrics,
            live_md,
        ]
        episode.input(
            lambda e, f, t, a: show(e, 1, f, t, a),
            [episode, failures, type_filter, app_filter],
            outputs,
            api_name="episode",
        )
        for control in (failures, type_filter, app_filter):
            control.input(
                lambda e, f, t, a: show(e, 1, f, t, a),
                [episode, failures, type_filter, app_filter],
                outputs,
                api_visibility="private",
            )
        # `input` fires for drags and typed numbers alike (not for updates the app makes itself); only
        # the latest of a quick series of moves is rendered.
        slider.input(show, inputs, outputs, api_name="show", trigger_mode="always_last")
        prev_btn.click(move(-1), inputs, outputs, api_name="previous")
        next_btn.click(move(+1), inputs, outputs, api_name="next")
        gallery.select(pick, [episode, failures, type_filter, app_filter], outputs, api_visibility="private")
        run_btn.click(run_this_step, inputs, [current, live_md, live_raw], api_name="run_step")
    return demo


def launch_app(
    data: ReplayData,
    live: LiveConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    block: bool = True,
    agent_factory: AgentFactory = endpoint_agent,
) -> Any:
    """Build and launch the app serving only `data.roots`; returns the Blocks (call `.close()` to stop)."""
    demo = build_app(data, live, agent_factory)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        allowed_paths=[str(root) for root in data.roots],
        prevent_thread_lock=not block,
        ssr_mode=False,
        quiet=True,
        show_error=True,
    )
    return demo
