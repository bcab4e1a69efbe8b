"""Eval throughput: phone-r1's concurrent runner vs a one-request-at-a-time client, same server, same steps.

A scripted OpenAI-compatible server (`eval.testing.stub_server`, in its own process) sleeps a fixed time per
request, standing in for a model server with spare batch capacity. Both clients send the same
prompts (system template, step JSON and two phone-sized screenshots as base64 data URLs) for the
same synthetic steps:

- baseline: like seed 001's script, one `requests.post` after another, each waiting for its answer;
- phone-r1: `eval.loop.run_eval` with `PhoneAgent.from_endpoint` at `--concurrency` (default 32),
  results file, scoring and all; timed `--repeat` times (default 5), the median run reported.

The ideal speed-up is the concurrency. The client-side preparation time per step (prompt and image
encoding) is measured separately and should stay well under the server's per-request time. The
client's CPU time per step (one event loop drives every request, so it bounds the throughput), the
stub server's CPU time per request, the machine's load average and the CPU time stolen by other
guests of the host are printed with the result, since on a small shared machine they, not the
client's design, decide how close a run gets to the ideal.

    .venv/bin/python benchmarks/eval_throughput.py [--steps 500] [--latency 0.1] [--concurrency 32] \
        [--repeat 5]

It then runs the same steps with `--history own` (episodes concurrent, the steps of an episode in
sequence) and prints its wall time against the ideal that episode-level concurrency allows.

Then a grounding run: the clicks of the same episodes as a grounding set (`phone-r1 data grounding-set`),
a second stub server answering each item in a grounding adapter's grammar (`--grounding-agent`,
default qwen3-vl), asked one at a time and then by `eval.grounding_run.run_grounding` at the same
concurrency (target >= 90% of the ideal speed-up).

The last line is the headline figure: `eval_speedup: <baseline wall time / phone-r1 wall time>`.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.loop import run as run_loop  # noqa: E402
from episodes.readers import iter_steps  # noqa: E402
from eval.loop import make_header, run_eval  # noqa: E402
from eval.results import ResultsWriter  # noqa: E402
from eval.testing.stub_server import StubServerProcess  # noqa: E402


def count_steps(root: Path) -> int:
    """Steps under an episode folder, from directory listings alone (no record is read)."""
    from episodes.readers import NotEpisodes, list_episodes, list_step_files

    try:
        list_episodes(root)
    except NotEpisodes:  # nothing drawn yet
        return 0
    return sum(len(list_step_files(ep, strict=False)) for ep in list_episodes(root))


def make_episodes(root: Path, steps: int) -> Path:
    """Synthetic phone-sized episodes (the data area's generator) until there are `steps` steps."""
    from episodes.synth import synthesize

    root.mkdir(parents=True, exist_ok=True)
    start = 30001
    while (have := count_steps(root)) < steps:
        batch = max(4, (steps - have) // 5)  # about five steps per episode
        synthesize(root, episodes=batch, seed=start, start_id=start, overwrite=False)
        start += batch
    return root


def sequential_client(steps: list, base_url: str, model: str) -> tuple[float, int]:
    """Seed 001's way: build one request, post it, wait for the answer, then the next."""
    import requests

    from agent.backends.images import image_data_url
    from agent.prompt import build_messages

    ok = 0
    started = time.perf_counter()
    for step in steps:
        messages = build_messages(step)
        content = [
            {"type": "image_url", "image_url": {"url": image_data_url(p["image"])}}
            if p["type"] == "image"
            else p
            for p in messages[1]["content"]
        ]
        body = {
            "model": model,
            "messages": [messages[0], {"role": "user", "content": content}],
            "max_tokens": 1024,
            "temperature": 0.0,
        }
        response = requests.post(
            f"{base_url}/chat/completions",
            json=body,
            headers={"Authorization": "Bearer no-key-required"},
            timeout=120,
        )
        ok += bool(response.json()["choices"][0]["message"]["content"])
    return time.perf_counter() - started, ok


def preparation_ms(steps: list) -> tuple[float, float]:
    """Mean and p95 client-side preparation per step: messages plus base64 screenshots, as the agent does."""
    from agent.backends.images import clear_image_cache, image_data_url
    from agent.prompt import build_messages

    clear_image_cache()
    times = []
    for step in steps:
        t0 = time.perf_counter()
        messages = build_messages(step)
        for part in messages[1]["content"]:
            if part["type"] == "image":
                image_data_url(part["image"])
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.fmean(times), sorted(times)[int(0.95 * (len(times) - 1))]


async def concurrent_run(
    episodes: Path, base_url: str, model: str, steps: int, concurrency: int, out: Path
) -> tuple[float, int, float]:
    """phone-r1's run: wall time, steps scored correct, and the client's CPU seconds during `run_eval`."""
    import openai  # noqa: F401 - imported before the clock starts, as `requests` is for the baseline

    from agent.agent import PhoneAgent
    from agent.backends.images import clear_image_cache

    agent = PhoneAgent.from_endpoint(base_url, model, concurrency=concurrency, timeout=60, max_retries=0)
    # Warm-up, untimed: the first requests import the lazily loaded parts of the HTTP client, the
    # matcher and the results writer, which a long evaluation pays once; the baseline's `requests` is
    # likewise imported before its clock starts. Screenshots are encoded from cold again afterwards.
    warm = ResultsWriter(
        out.with_name("warm-up.jsonl"), make_header(agent, model=model, endpoint=base_url, protocol="box")
    )
    try:
        await run_eval(
            agent, iter_steps(episodes), warm, concurrency=concurrency, limit=concurrency, progress=False
        )
    finally:
        warm.close()
    clear_image_cache()
    writer = ResultsWriter(out, make_header(agent, model=model, endpoint=base_url, protocol="box"))
    try:
        cpu0 = time.process_time()
        summary = await run_eval(
            agent, iter_steps(episodes), writer, concurrency=concurrency, limit=steps, progress=False
        )
        cpu_s = time.process_time() - cpu0
    finally:
        writer.close()
        await agent.aclose()
    return summary.wall_s, summary.correct, cpu_s


async def own_history_run(
    episodes: Path, base_url: str, model: str, concurrency: int, out: Path, steps: int
) -> tuple[float, int, list[int]]:
    """`--history own` over the episodes holding the first `steps` steps: wall time, steps right, and the
    episode lengths in the order the runner takes them (for the ideal schedule)."""
    from agent.agent import PhoneAgent
    from eval.own_history import _episodes, run_own_history

    chosen = [s for _, s in zip(range(steps), iter_steps(episodes), strict=False)]
    lengths = [len(e) for e in _episodes(chosen)]
    agent = PhoneAgent.from_endpoint(base_url, model, concurrency=concurrency, timeout=60, max_retries=0)
    header = make_header(agent, model=model, endpoint=base_url, protocol="box", history="own")
    writer = ResultsWriter(out, header)
    try:
        summary = await run_own_history(
            agent, chosen, writer, mode="own", concurrency=concurrency, progress=False
        )
    finally:
        writer.close()
        await agent.aclose()
    return summary.wall_s, summary.correct, lengths


def grounding_requests(items: list, adapter: object) -> list:
    """Each item's request as the client sends it (generic messages; screenshots as files)."""
    return [adapter.messages(item) for item in items]  # type: ignore[attr-defined]


def sequential_grounding(items: list, adapter: object, base_url: str, model: str) -> tuple[float, int]:
    """Seed 001's way for grounding: one request, wait for the answer, then the next."""
    import requests

    from agent.backends.images import image_data_url

    ok = 0
    started = time.perf_counter()
    for messages in grounding_requests(items, adapter):
        wire = []
        for message in messages:
            content = message["content"]
            if not isinstance(content, str):
                content = [
                    {"type": "image_url", "image_url": {"url": image_data_url(p["image"])}}
                    if p["type"] == "image"
                    else p
                    for p in content
                ]
            wire.append({"role": message["role"], "content": content})
        body = {"model": model, "messages": wire, "max_tokens": 1024, "temperature": 0.0}
        response = requests.post(
            f"{base_url}/chat/completions",
            json=body,
            headers={"Authorization": "Bearer no-key-required"},
            timeout=120,
        )
        ok += bool(response.json()["choices"][0]["message"]["content"])
    return time.perf_counter() - started, ok


async def grounding_run(
    items: list, agent_name: str, base_url: str, model: str, concurrency: int, out: Path
) -> tuple[float, int, float]:
    """phone-r1's grounding run (`eval run` on a grounding set, in process): wall time, items right and
    the client's CPU seconds; a warm-up of `concurrency` items first, untimed, as for steps."""
    import openai  # noqa: F401 - imported before the clock starts

    from agent.backends.images import clear_image_cache
    from agent.spec import resolve_spec
    from eval.grounding_run import grounding_header, item_golds, make_grounding_agent, run_grounding
    from eval.results import golds_fingerprint

    spec = resolve_spec(None, engine="endpoint", location=base_url, model=model)
    agent = make_grounding_agent(spec, agent_name, concurrency=concurrency, timeout=60, max_retries=0)
    protocol = "region"

    def writer(path: Path) -> ResultsWriter:
        golds = item_golds(items)
        header = grounding_header(
            agent.adapter,
            spec,
            protocol=protocol,
            items=None,
            fingerprint=golds_fingerprint(golds),
            language=None,
            temperature=0.0,
            benchmark="episodes",
        )
        return ResultsWriter(path, header, golds=golds)

    warm = writer(out.with_name("grounding-warm-up.jsonl"))
    try:
        await run_grounding(
            agent, items, warm, protocol=protocol, concurrency=concurrency, limit=concurrency, progress=False
        )
    finally:
        warm.close()
    clear_image_cache()
    timed = writer(out)
    try:
        cpu0 = time.process_time()
        summary = await run_grounding(
            agent, items, timed, protocol=protocol, concurrency=concurrency, progress=False
        )
        cpu_s = time.process_time() - cpu0
    finally:
        timed.close()
        await agent.aclose()
    return summary.wall_s, summary.correct, cpu_s


def ideal_episode_wall(lengths: list[int], workers: int, latency: float) -> float:
    """Wall time of a perfect client with `workers` episodes in flight, steps of an episode in sequence:
    each episode goes, in order, to the worker that frees up first (what the runner's queue does)."""
    import heapq

    free = [0.0] * min(workers, max(len(lengths), 1))
    for length in lengths:
        heapq.heapreplace(free, free[0] + length * latency)
    return max(free)


def mean_body_kb(results: Path) -> float:
    """Mean request body size: the stub server reports a quarter of the body's bytes as prompt tokens."""
    from eval.results import read_results

    tokens = [r["usage"]["prompt_tokens"] for r in read_results(results).records.values()]
    return 4 * statistics.fmean(tokens) / 1024


def client_stack() -> str:
    """The HTTP transport and event loop the agent's openai client runs on."""
    import openai

    from agent.backends.openai_backend import http_client_class
    from agent.loop import new_event_loop

    loop = new_event_loop()
    try:
        loop_name = type(loop).__module__.split(".")[0]
    finally:
        loop.close()
    transport = "aiohttp" if http_client_class() is openai.DefaultAioHttpClient else "httpx"
    return f"openai client on {transport}, {loop_name} event loop"


class StealMeter:
    """Share of the machine's CPU time the hypervisor gave to other guests since creation (0 where the
    system does not report it). On a shared virtual machine this, not the client, explains runs far
    from the others."""

    def __init__(self) -> None:
        self.start = self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        import psutil

        return getattr(psutil.cpu_times(), "steal", 0.0), time.monotonic()

    def share(self) -> float:
        steal, now = self._now()
        elapsed = (now - self.start[1]) * (os.cpu_count() or 1)
        return (steal - self.start[0]) / elapsed if elapsed > 0 else 0.0


def _process_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process (psutil comes with the dev extras)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def measure_grounding(
    episodes: Path, tmp: Path, count: int, args: argparse.Namespace
) -> tuple[int, float, list[float], int, float]:
    """The grounding run: `(items, one-at-a-time wall s, phone-r1 wall s per repeat, right, client CPU s)`."""
    from agent.adapters.grounding import make_grounding_adapter
    from agent.backends.images import clear_image_cache
    from episodes.grounding import read_grounding_items
    from episodes.grounding_steps import write_grounding_set

    # The clicks of episodes drawn until they hold `count` of them (about half of all steps are clicks).
    folder = tmp / "grounding"
    drawn = count
    while True:
        source = make_episodes(tmp / f"grounding-episodes-{drawn}", drawn) if drawn > count else episodes
        shutil.rmtree(folder, ignore_errors=True)
        write_grounding_set(source, folder)
        items = read_grounding_items(folder)
        if len(items) >= count or drawn > 8 * count:
            break
        drawn *= 2
    items = items[:count]
    adapter = make_grounding_adapter(args.grounding_agent)
    model = "stub-model"
    server_args = ["--grounding", str(folder), "--agent", args.grounding_agent]
    server_args += ["--latency", str(args.latency), "--model", model]
    with StubServerProcess(server_args) as server:
        walls = []
        for repeat in range(args.repeat):
            clear_image_cache()
            out = tmp / f"grounding-{repeat}.jsonl"
            wall, correct, cpu_s = run_loop(
                grounding_run(items, args.grounding_agent, server.base_url, model, args.concurrency, out)
            )
            walls.append(wall)
        clear_image_cache()
        seq_s, _ = sequential_grounding(items, adapter, server.base_url, model)
    return len(items), seq_s, walls, correct, cpu_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1, help="server seconds per request")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--episodes", type=Path, help="use these episodes instead of drawing synthetic ones")
    parser.add_argument(
        "--grounding-items", type=int, help="items of the grounding run (default: as many as --steps)"
    )
    parser.add_argument(
        "--grounding-agent",
        default="qwen3-vl",
        help="grounding adapter the grounding run asks in (default qwen3-vl: 0-1000 grid, no pixel budget)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="timed phone-r1 runs; the median is reported (a 2 s run is easily moved by a burst "
        "of load from elsewhere on a shared machine, a 50 s one-at-a-time run is not)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="eval_bench_") as tmp:
        episodes = args.episodes or make_episodes(Path(tmp) / "episodes", args.steps)
        steps = [s for _, s in zip(range(args.steps), iter_steps(episodes), strict=False)]
        if len(steps) < args.steps:
            print(f"only {len(steps)} steps under {episodes}", file=sys.stderr)
        sizes = {s.screen_size for s in steps}
        prep_mean, prep_p95 = preparation_ms(steps)
        model = "stub-model"
        server_args = ["--episodes", str(episodes), "--latency", str(args.latency), "--model", model]
        # The server runs in its own process, so its work does not share the client's interpreter.
        from agent.backends.images import clear_image_cache

        with StubServerProcess(server_args) as server:
            server_cpu0 = _process_cpu_s(server.proc.pid)
            load_before = os.getloadavg()[0]
            runs = []  # (wall s, scored correct, client CPU s, share of CPU stolen)
            for repeat in range(args.repeat):
                clear_image_cache()  # every timed run starts with no screenshot encoded
                out = Path(tmp) / f"results-{repeat}.jsonl"
                steal = StealMeter()
                wall, correct, client_cpu_s = run_loop(
                    concurrent_run(episodes, server.base_url, model, len(steps), args.concurrency, out)
                )
                runs.append((wall, correct, client_cpu_s, steal.share()))
            # Warm-up requests included: each run sends `concurrency` more than it times.
            served = args.repeat * (len(steps) + args.concurrency)
            server_cpu_ms = 1000 * (_process_cpu_s(server.proc.pid) - server_cpu0) / served
            body_kb = mean_body_kb(out)
            clear_image_cache()
            steal = StealMeter()
            seq_s, seq_ok = sequential_client(steps, server.base_url, model)
            seq_steal = steal.share()
            clear_image_cache()
            own_s, own_ok, lengths = run_loop(
                own_history_run(
                    episodes, server.base_url, model, args.concurrency, Path(tmp) / "own.jsonl", len(steps)
                )
            )
            load_after = os.getloadavg()[0]
        grounding = measure_grounding(episodes, Path(tmp), args.grounding_items or len(steps), args)

    n = len(steps)
    conc_s, conc_ok, client_cpu_s, conc_steal = sorted(runs)[len(runs) // 2]  # the median run by wall time
    client_cpu_ms = 1000 * client_cpu_s / n
    speedup = seq_s / conc_s
    print(f"steps: {n} (screens {sorted(sizes)[:3]}{' ...' if len(sizes) > 3 else ''})")
    print(f"server latency per request: {1000 * args.latency:.0f} ms")
    print(
        f"client preparation per step (prompt + base64 screenshots): mean {prep_mean:.1f} ms, p95 "
        f"{prep_p95:.1f} ms "
        f"({100 * prep_mean / (1000 * args.latency):.1f}% of the server's time)"
    )
    print(f"one at a time (seed 001 style): {seq_s:.2f} s, {n / seq_s:.1f} steps/s, {seq_ok} answered")
    walls = ", ".join(f"{w:.2f}" for w, *_ in runs)
    print(
        f"phone-r1 eval, concurrency {args.concurrency}: {conc_s:.2f} s (median of {len(runs)} runs: "
        f"{walls} s), "
        f"{n / conc_s:.1f} steps/s, {conc_ok} scored correct ({client_stack()}; request bodies "
        f"{body_kb:.0f} KB "
        f"on average)"
    )
    # One event loop drives every request, so the client's CPU per step caps the throughput.
    print(
        f"phone-r1 client CPU per step (prompt, HTTP client, scoring, results file): {client_cpu_ms:.1f} ms "
        f"-> at most {1000 / client_cpu_ms:.0f} steps/s on one core; ideal here "
        f"{args.concurrency / args.latency:.0f}"
    )
    print(
        f"stub server CPU per request (its own process): {server_cpu_ms:.1f} ms; "
        f"machine load average {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} CPUs"
    )
    print(
        f"CPU time taken by other tenants of the host (steal): {100 * seq_steal:.1f}% during the "
        "one-at-a-time run, "
        f"{100 * conc_steal:.1f}% during the median phone-r1 run"
    )
    print(
        f"speed-up: {speedup:.1f}x; ideal {args.concurrency}x; {100 * speedup / args.concurrency:.0f}% of "
        "ideal "
        f"(target >= 80%)"
    )
    own_ideal = ideal_episode_wall(lengths, args.concurrency, args.latency)
    print(
        f"own-history eval (--history own), {len(lengths)} episodes, up to {args.concurrency} at once: "
        f"{own_s:.2f} s, {own_ok} of {sum(lengths)} steps right; ideal with episode-level concurrency "
        f"{own_ideal:.2f} s; {100 * own_ideal / own_s:.0f}% of that ideal (target >= 80%)"
    )
    g_items, g_seq_s, g_runs, g_correct, g_cpu_s = grounding
    g_wall = sorted(g_runs)[len(g_runs) // 2]
    g_speedup = g_seq_s / g_wall
    g_walls = ", ".join(f"{w:.2f}" for w in g_runs)
    print(
        f"grounding ({g_items} items, --agent {args.grounding_agent}): one at a time {g_seq_s:.2f} s; "
        f"phone-r1 concurrency {args.concurrency}: {g_wall:.2f} s (median of {len(g_runs)}: {g_walls} s), "
        f"{g_items / g_wall:.1f} items/s, {g_correct} right, client CPU {1000 * g_cpu_s / g_items:.1f} ms "
        f"per item; speed-up {g_speedup:.1f}x; ideal {args.concurrency}x; "
        f"{100 * g_speedup / args.concurrency:.0f}% of ideal (target >= 90%)"
    )
    print(f"eval_speedup: {speedup:.2f}")
    print(f"grounding_speedup: {g_speedup:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
