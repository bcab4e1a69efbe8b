"""phone-r1: train, serve, evaluate and replay vision-language phone agents."""

__version__ = "0.1.0"
