"""Serving checkpoints behind an OpenAI-compatible API (vLLM on GPU, transformers on CPU)."""
