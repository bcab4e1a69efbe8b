"""A local transformers model as a backend: no server, same messages, same answers.

The model and processor load on first use (never at construction or import). Generation runs in a
worker thread, one request at a time, so the event loop stays responsive for other steps.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from agent.backends.base import Completion
from agent.errors import BackendError

logger = logging.getLogger(__name__)


class TransformersBackend:
    """Greedy (or sampled, with `temperature > 0`) generation from a checkpoint folder of any family.

    `budget` (`actions.coords.PixelBudget`) overrides the processor's saved pixel budget, so the
    model sees images at the resolution the prompt's coordinate space assumes. `chat_template_kwargs`
    are the template's switches (Qwen3.5: `enable_thinking`); the answer is returned whole, with what
    the generation prompt opened (`answer_prefix`; None: found on the checkpoint's own template) in
    front, as `agent.thinking` describes.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        device: str = "cpu",
        dtype: str = "auto",
        budget: Any = None,
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        chat_template_kwargs: dict[str, Any] | None = None,
        answer_prefix: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = f"transformers:{self.path}"
        self.device = device
        self.dtype = dtype
        self.budget = budget
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.answer_prefix = answer_prefix
        self._model: Any = None
        self._processor: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TransformersBackend(path={str(self.path)!r}, device={self.device!r}, budget={self.budget!r})"

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            from transformers import AutoModelForImageTextToText

            from agent.processor import load_processor

            budget = self.budget
            self._processor = load_processor(
                self.path,
                min_pixels=budget.min_pixels if budget is not None else None,
                max_pixels=budget.max_pixels if budget is not None else None,
            )
            model = AutoModelForImageTextToText.from_pretrained(str(self.path), dtype=self.dtype)
            self._model = model.to(self.device).eval()
            if self.answer_prefix is None:
                from agent.thinking import answer_prefix

                self.answer_prefix = answer_prefix(self._processor, self.chat_template_kwargs)
            logger.info("loaded %s on %s", self.path, self.device)
        return self._model, self._processor

    def generate(self, messages: list[dict[str, Any]]) -> Completion:
        """Blocking generation for generic messages (`agent.prompt.build_messages` layout)."""
        import torch
        from PIL import Image

        with self._lock:
            model, processor = self._load()
            images = []
            for message in messages:
                if isinstance(message["content"], list):
                    for part in message["content"]:
                        if part.get("type") == "image":
                            with Image.open(part["image"]) as image:
                                images.append(image.convert("RGB"))
            text = processor.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True, **self.chat_template_kwargs
            )
            inputs = processor(text=[text], images=images or None, return_tensors="pt").to(model.device)
            sampling = (
                {"do_sample": True, "temperature": self.temperature}
                if self.temperature > 0
                else {"do_sample": False}
            )
            with torch.inference_mode():
                output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, **sampling)
            prompt_len = inputs["input_ids"].shape[1]
            new_tokens = output[0, prompt_len:]
            answer = processor.batch_decode(new_tokens[None], skip_special_tokens=True)[0]
            answer = (self.answer_prefix or "") + answer
            return Completion(
                answer, {"prompt_tokens": int(prompt_len), "completion_tokens": int(new_tokens.numel())}
            )

    async def acomplete(self, messages: list[dict[str, Any]], *, step: Any = None) -> Completion:
        """Generate in a worker thread; a missing screenshot or a failed generation is a `BackendError`."""
        try:
            return await asyncio.to_thread(self.generate, messages)
        except (OSError, ValueError, RuntimeError) as exc:
            raise BackendError(
                "bad_response", f"{self.path}: generation failed: {type(exc).__name__}: {exc}"
            ) from exc

    async def aclose(self) -> None:
        """Drop the model and processor; the next call loads them again."""
        with self._lock:
            self._model = self._processor = None
