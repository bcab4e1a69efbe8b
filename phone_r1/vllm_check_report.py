"""The report of `phone_r1.vllm_check`: what vLLM made of each family's commands, prompts and GRPO batch.

`report(plan, result)` returns the printed text and the number of failures. A failure is a command
vLLM rejects, a prompt whose tokens vLLM renders differently from training, a recorded context length
that is not vLLM's count, a recipe's `trl vllm-serve` line vLLM rejects, or a GRPO generation input
that phone-r1 would let through while vLLM would generate from other tokens than the trainer scores.
What TRL 1.16 sends on its own is reported beside phone-r1's seam, for information: that is the bug
the seam exists for (`training.vllm_generation`).
"""

from __future__ import annotations

import shlex
from typing import Any

from training.vllm_generation import TRL_ISSUES, ImageExpansion, VLLMPromptError, check_server_features

# The two servers of the generation check: as the recipe documents it (its pixel budget passed to the
# server's processor), and without the budget (the served folder's processor config decides).
SERVER_WITH_BUDGET = "server, trl vllm-serve --mm-processor-kwargs (as the recipe)"
SERVER_WITHOUT_BUDGET = "server, trl vllm-serve without --mm-processor-kwargs"


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _same(training: dict[str, Any], vllm: dict[str, Any] | None) -> bool:
    """Same image tokens per screenshot and the same prompt token ids (None: nothing to compare)."""
    if vllm is None:
        return True
    return "error" not in vllm and all(vllm[k] == training[k] for k in ("tokens", "prompt_ids"))


def _tokens(seen: dict[str, Any] | None) -> str:
    if seen is None:
        return "-"
    return seen.get("error", "") or "+".join(map(str, seen["tokens"]))


def parity_rows(family: dict[str, Any], seen: dict[str, Any]) -> tuple[list[list[str]], int]:
    """Table rows (screen, images, budget, training's and vLLM's image tokens) and how many differ."""
    rows, differences = [], 0
    for case, got in zip(family["parity"], seen["parity"], strict=True):
        train = case["training"]
        same = _same(train, got["as_sent"]) and _same(train, got["resized"])
        differences += not same
        pixels = "{}..{}".format(*case["pixels"]) if case["pixels"] else "no pixel budget"
        rows.append(
            [
                "{}x{}".format(*case["screen"]),
                str(case["images"]),
                f"{case['budget']} {pixels}",
                "+".join(map(str, train["tokens"])) + f" ({len(train['prompt_ids'])})",
                _tokens(got["as_sent"]),
                _tokens(got["resized"]),
                "same" if same else "DIFFERENT",
            ]
        )
    return rows, differences


def context_line(family: dict[str, Any], seen: dict[str, Any]) -> tuple[str, int]:
    """Training's recorded longest prompt against vLLM's count of the same prompts, and the served length."""
    recorded = family["recorded"]["max_prompt_length"]
    lengths = [
        len(got["as_sent"]["prompt_ids"])
        for case, got in zip(family["parity"], seen["parity"], strict=True)
        if case["budget"] == "checkpoint" and "error" not in got["as_sent"]
    ]
    longest = max(lengths, default=None)
    served = seen["commands"][0].get("max_model_len")
    same = longest is not None and longest == recorded
    return (
        f"context: phone_r1.json records a longest prompt of {recorded} tokens (training's count), vLLM "
        f"renders {longest}: {'same' if same else 'DIFFERENT'}; `serve` passes --max-model-len, "
        f"vLLM's model config has max_model_len={served}",
        0 if same else 1,
    )


def _ids_verdict(trainer: list[int], got: dict[str, Any]) -> tuple[bool, str]:
    if "error" in got:
        return False, got["error"]
    ids = got["prompt_ids"]
    images = "+".join(str(length) for _, length, _ in got["placeholders"])
    if ids == trainer:
        return True, f"{len(ids)} tokens, images {images}: the trainer's"
    return False, f"{len(ids)} tokens (trainer: {len(trainer)}), images {images}"


def generation_rows(family: dict[str, Any], seen: dict[str, Any]) -> tuple[list[list[str]], int]:
    """Rows (path, prompt, what vLLM would generate from, verdict) of the GRPO batch, and the failures."""
    gen, got = family["generation"], seen["generation"]
    expansion = ImageExpansion(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in gen["expansion"].items()}
    )
    rows: list[list[str]] = []
    failures = 0
    for n, trainer in enumerate(gen["trainer_ids"]):
        screen = "{}x{}".format(*gen["screens"][n])
        ok, text = _ids_verdict(trainer, got["colocate"]["as_trl"][n])
        rows.append(["colocate, as TRL 1.16 sends it", screen, text,
                     "same" if ok else f"corrupted ({TRL_ISSUES}); not what phone-r1 sends"])  # fmt: skip
        ok, text = _ids_verdict(trainer, got["colocate"]["seam"][n])
        failures += not ok
        rows.append(["colocate, phone-r1's seam", screen, text, "same" if ok else "DIFFERENT"])
    for label, server in got["server"].items():
        # The documented set-up must work; the one without the budget must be refused or be right.
        documented = label == SERVER_WITH_BUDGET
        for n, trainer in enumerate(gen["trainer_ids"]):
            screen = "{}x{}".format(*gen["screens"][n])
            prompt = server["prompts"][n] if "prompts" in server else server
            if "features" not in prompt:
                failures += documented
                rows.append([label, screen, prompt.get("error", "no answer"), "FAILED"])
                continue
            embeds = prompt["server_embeds"]
            placed = [length for _, length, _ in prompt.get("engine", {}).get("placeholders", [])]
            corrupt = "error" in prompt or placed != embeds or prompt["engine"]["prompt_ids"] != trainer
            what = "{} image embeddings into {} positions".format(
                "+".join(map(str, embeds)), "+".join(map(str, placed)) or "?"
            )
            try:
                check_server_features(prompt["features"], trainer, expansion)
                refused = ""
            except VLLMPromptError as exc:
                refused = str(exc).split(":")[0]
            if refused:
                verdict = f"refused by phone-r1 ({refused}); TRL as is: {'corrupted' if corrupt else 'same'}"
                failures += documented
            elif corrupt:
                verdict = "CORRUPTED and let through"
                failures += 1
            else:
                verdict = "same"
            rows.append([label, screen, what, verdict])
    return rows, failures


def report(plan: dict[str, Any], result: dict[str, Any]) -> tuple[str, int]:
    """The printed report and the number of failures (see the module docstring)."""
    versions = result["versions"]
    out = [
        f"vLLM {versions['vllm']} (transformers {versions['transformers']}, torch {versions['torch']}, "
        f"trl {versions.get('trl', 'not installed')})"
    ]
    failures = parsed = commands = 0
    for family, seen in zip(plan["families"], result["families"], strict=True):
        out += ["", f"== {family['family']} ({family['title']}) =="]
        for command, got in zip(family["commands"], seen["commands"], strict=True):
            commands += 1
            if got.get("error"):
                failures += 1
                argv = shlex.join(command["argv"][1:])
                out.append(f"REJECTED  {command['name']}: {argv}\n    vLLM: {got['error']}")
            else:
                parsed += 1
                out.append(f"parsed    {command['name']}: {got['summary']}")
        rows, differences = parity_rows(family, seen)
        header = ["screen", "images", "budget", "training tokens (prompt)", "vLLM tokens",
                  "vLLM, client-resized", "verdict"]  # fmt: skip
        out += ["image tokens per screenshot, training (TRL's GRPO tokenization) vs vLLM's render server:",
                format_table(header, rows), f"parity differences: {differences}"]  # fmt: skip
        failures += differences
        line, bad = context_line(family, seen)
        out.append(line)
        failures += bad
        gen = family["generation"]
        budget = "{}..{}".format(*gen["budget"]) if gen["budget"] else "no pixel budget"
        rows, bad = generation_rows(family, seen)
        out += [f"GRPO generation through vLLM (two screenshots per prompt, trainer budget {budget}):",
                format_table(["path", "prompt", "what vLLM would generate from", "verdict"], rows),
                f"generation failures: {bad}"]  # fmt: skip
        failures += bad
    out += ["", f"serve commands parsed by vLLM: {parsed}/{commands}"]
    trl = result.get("trl", {})
    if trl.get("error"):
        failures += 1
        out.append(f"trl vllm-serve (recipe line): FAILED: {trl['error']}")
    else:
        out.append(f"trl vllm-serve (recipe line): {trl.get('summary', 'not checked')}")
    return "\n".join(out), failures
