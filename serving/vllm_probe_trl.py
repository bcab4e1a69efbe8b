"""TRL's GRPO generation inputs through vLLM's own input processing (part of `serving.vllm_probe`).

Runs in the vLLM venv, which holds TRL too, and imports nothing of phone-r1 but `serving.vllm_render`.
For one batch of prompts (token ids as TRL's `GRPOTrainer._tokenize_prompts` made them, the
screenshots as files), it puts exactly what `trl/generation/vllm_generation.py` (TRL 1.16) would
send through vLLM, short of the engine (which does not run on CPU):

- colocate: the engine arguments `VLLMGeneration._init_vllm` gives `LLM(...)`, the prompt dicts its
  colocate branch builds, `OfflineInferenceMixin._preprocess_cmpl` (what `LLM.generate` renders them
  with) and `InputProcessor.process_inputs` (what `LLMEngine.add_request` does next); once with the
  ids TRL sends, once with the ids and `mm_processor_kwargs` phone-r1's seam sends
  (`training.vllm_generation`, computed on phone-r1's side and carried in the plan).
- server: the `vllm serve` command `trl vllm-serve` execs, vLLM's render server for it, TRL's own
  `VLLMClient.image_features` request body (`to_openai_messages`, max_tokens 1), TRL's own
  `VLLMGeneration._place_features`, then the engine input `/inference/v1/generate` builds from token
  ids and features (as `ServingTokens.serve_tokens`) through `InputProcessor.process_inputs`.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from serving.vllm_render import RenderServer, parse_command, trl_serve_command, vllm_error


def _engine_request(vllm_config: Any, renderer: Any, engine_input: Any, n: int) -> dict[str, Any]:
    """What reaches the engine for one rendered prompt: its token ids and, per image, where its
    embeddings go (offset, length, number of embeddings)."""
    from vllm import SamplingParams
    from vllm.v1.engine.input_processor import InputProcessor

    request = InputProcessor(vllm_config, renderer).process_inputs(
        f"check-{n}", engine_input, SamplingParams(max_tokens=1), supported_tasks=("generate",)
    )
    return {
        "prompt_ids": list(request.prompt_token_ids),
        "placeholders": [
            [f.mm_position.offset, f.mm_position.length, f.mm_position.get_num_embeds()]
            for f in request.mm_features or []
        ],
    }


def _images(paths: list[list[str]]) -> list[list[Any]]:
    from PIL import Image

    return [[Image.open(p).convert("RGB") for p in prompt] for prompt in paths]


def probe_colocate(gen: dict[str, Any], images: list[list[Any]]) -> dict[str, Any]:
    """The colocate prompts through `LLM.generate`'s preprocessing, as TRL sends them and as the seam does."""
    from types import SimpleNamespace

    from vllm.engine.arg_utils import EngineArgs
    from vllm.entrypoints.common.offline import OfflineInferenceMixin
    from vllm.renderers import renderer_from_config

    try:
        vllm_config = EngineArgs(**gen["engine_args"]).create_engine_config()
        renderer = renderer_from_config(vllm_config)
    except Exception as exc:  # noqa: BLE001
        failed = {"error": f"{type(exc).__name__}: {exc}"}
        return {"as_trl": [failed] * len(images), "seam": [failed] * len(images)}
    # `_preprocess_cmpl` reads only these two attributes of the `LLM`.
    llm = SimpleNamespace(renderer=renderer, model_config=vllm_config.model_config)

    def run(all_ids: list[list[int]], mm_kwargs: dict[str, Any] | None) -> list[dict[str, Any]]:
        out = []
        for n, (ids, imgs) in enumerate(zip(all_ids, images, strict=True)):
            # VLLMGeneration.generate, colocate branch: one dict per prompt.
            row = {"prompt_token_ids": ids, "multi_modal_data": {"image": imgs if len(imgs) > 1 else imgs[0]}}
            try:
                (engine_input,) = OfflineInferenceMixin._preprocess_cmpl(llm, [row], None, mm_kwargs)
                out.append(_engine_request(vllm_config, renderer, engine_input, n))
            except Exception as exc:  # noqa: BLE001 - reported per prompt
                out.append({"error": f"{type(exc).__name__}: {exc}"})
        return out

    return {"as_trl": run(gen["trainer_ids"], None), "seam": run(gen["sent_ids"], gen["mm_kwargs"] or None)}


def probe_server(words: list[str], gen: dict[str, Any], images: list[list[Any]]) -> dict[str, Any]:
    """The server-mode path for `trl vllm-serve WORDS`: render, TRL's placement, the generate side."""
    from types import SimpleNamespace

    from trl.generation.vllm_client import to_openai_messages
    from trl.generation.vllm_generation import VLLMGeneration
    from vllm.entrypoints.scale_out.token_in_token_out.mm_features import mm_kwargs_from_features
    from vllm.entrypoints.scale_out.token_in_token_out.protocol import MultiModalFeatures
    from vllm.inputs import mm_input
    from vllm.multimodal.inputs import MultiModalKwargsItems, PlaceholderRange

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            server = RenderServer(*parse_command(trl_serve_command(words)))
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        return {"error": vllm_error(exc, err.getvalue())}
    # `_place_features` reads only the processor's image token id.
    trainer = SimpleNamespace(processing_class=SimpleNamespace(image_token_id=gen["image_token_id"]))
    out = []
    for n, (ids, imgs) in enumerate(zip(gen["trainer_ids"], images, strict=True)):
        messages = [{"role": "user", "content": [{"type": "image", "image": image} for image in imgs]}]
        try:
            response, engine_input = server.render(to_openai_messages(messages))
            # What the client receives: the response as JSON.
            features = json.loads(response.model_dump_json())["features"]
            # The placeholders only, without the tensors, go back to phone-r1's side.
            entry: dict[str, Any] = {
                "features": {"mm_placeholders": features["mm_placeholders"]},
                "server_embeds": [p.get_num_embeds() for p in engine_input["mm_placeholders"]["image"]],
            }
            try:
                placed = MultiModalFeatures(**VLLMGeneration._place_features(trainer, features, ids))
            except ValueError as exc:
                out.append({**entry, "error": f"TRL _place_features: {exc}"})
                continue
            generate_input = mm_input(
                prompt_token_ids=ids,
                mm_kwargs=MultiModalKwargsItems(mm_kwargs_from_features(placed)),
                mm_hashes=placed.mm_hashes,
                mm_placeholders={
                    modality: [PlaceholderRange(offset=p.offset, length=p.length) for p in ranges]
                    for modality, ranges in placed.mm_placeholders.items()
                },
            )
            entry["engine"] = _engine_request(server.vllm_config, server.renderer, generate_input, n)
            out.append(entry)
        except Exception as exc:  # noqa: BLE001 - reported per prompt
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    return {"prompts": out}


def probe_generation(gen: dict[str, Any]) -> dict[str, Any]:
    """TRL's GRPO generation inputs for one batch, colocate and server, through vLLM's input processing."""
    images = _images(gen["images"])
    return {
        "colocate": probe_colocate(gen, images),
        "server": {label: probe_server(words, gen, images) for label, words in gen["servers"].items()},
    }
