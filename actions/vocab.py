"""The words every package shares, defined once: import them, never retype them.

Dependency-free (standard library only), so the CLIs' argument parsers can read it without loading
any model library. The names of the families users extend live in their registries
(`phone_r1.families`): match protocols in `actions.protocols.PROTOCOLS`, rewards in
`actions.reward_registry.REWARDS`.
"""

from __future__ import annotations

# Coordinate spaces a model may answer in (see actions/coords.py): the screenshot's own pixels, the
# pixels of the image the processor resized it to, 0..1000 on both axes, or the 0..999 grid of
# Qwen3-VL's mobile cookbook.
COORD_SPACES: tuple[str, ...] = ("original", "resized", "norm1000", "norm999")
DEFAULT_COORD_SPACE = "original"

# The Qwen2.5-VL processor's default pixel budget: 56*56 up to 28*28*16384 pixels per image, and its
# tile (14-pixel patches merged 2x2). Other families' geometry is in their records (agent/families/).
DEFAULT_MIN_PIXELS = 56 * 56
DEFAULT_MAX_PIXELS = 28 * 28 * 16384
DEFAULT_TILE = 28

# The four fields of the seed's <think> JSON, in the seed's order.
THINK_FIELDS: tuple[str, ...] = (
    "task_interpretation",
    "current_page_audit",
    "path_alignment_check",
    "action_validation",
)

# Keys of the inquiry parameter's JSON string, in the seed's order.
INQUIRY_KEYS: tuple[str, ...] = ("Question", "CandidatesList", "PicDescribe", "AnswerIndex")

# Prompt templates shipped in agent/prompts/ (`<name>.md` + `<name>.coords.json`).
TEMPLATE_NAMES: tuple[str, ...] = ("zh", "en")
DEFAULT_TEMPLATE = "zh"

# Which history an evaluated step sees: the recorded one (teacher forcing), the agent's own earlier
# answers up to its first mismatch, or its own answers with each mismatch replaced by the gold.
HISTORY_MODES: tuple[str, ...] = ("gold", "own", "own-patched")
DEFAULT_HISTORY = "gold"

# Why a step got no completion (`agent.errors.AgentError.kind`): the server timed out, refused or
# dropped the connection, answered with an HTTP error or with something that is not a completion;
# or the step itself could not be sent (`bad_input`: e.g. an unreadable local screenshot).
ERROR_KINDS: tuple[str, ...] = ("timeout", "connection", "http_5xx", "http_4xx", "bad_response", "bad_input")
