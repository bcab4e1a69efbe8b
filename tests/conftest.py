"""Shared pytest configuration. Area fixtures live in `tests/helpers/` modules and are imported by tests."""

import os

# No model hub is reachable in tests: fail fast instead of waiting on network time-outs.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Property tests draw the same examples on every run (`derandomize`) and have no per-example deadline:
# CI runs the suite once on a busy machine, where a new random draw or a slow example would fail a
# submission that passed here. `HYPOTHESIS_PROFILE=explore` draws fresh examples to hunt for new cases.
from hypothesis import settings  # noqa: E402

settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
