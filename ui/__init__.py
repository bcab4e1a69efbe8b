"""Replay UI (Gradio) for episodes and evaluation results."""
