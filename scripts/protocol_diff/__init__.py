"""Differential check of phone-r1's published protocols against the official evaluators' own code.

`python -m scripts.protocol_diff SOURCE --official CHECKOUT [--python PY]` generates thousands of cases
(gold steps in the source's own data format and raw answers, random and adversarial), runs phone-r1 on
them (`data import`, `eval run --predictions`, `eval rescore`, `eval report`) and the official evaluator
from the user's checkout on the same cases (in the interpreter `--python`, e.g. a virtual environment
holding the official code's dependencies), then prints the agreement step by step and every case on
which the two disagree.

The official code is never part of this repository: it is imported from CHECKOUT at run time. One
module per source (`aitw`, `aitz`, `gui_odyssey`, `agentcpm`) says how to write its data, which answers
to generate and how to call its evaluator; `SOURCES` names them. A source module imports only the
standard library at module level, because its `official` function runs in the official evaluator's
interpreter, which has no phone-r1 installed.

The AndroidControl sources (`ANDROIDCONTROL_SOURCES`: InfiGUI-R1, UI-S1, OS-Atlas, GUI-R1, UI-R1) take
their gold from AndroidControl's real test set instead (UI-S1's JSONL copy, `--ac-jsonl`) and answer every
step in the evaluator's own grammar; `androidcontrol.py` holds their shared side and options
(`python -m scripts.protocol_diff infigui --checkout DIR --python PY --ac-jsonl FILE --work DIR`).
"""

SOURCES: dict[str, str] = {
    "aitw": "scripts.protocol_diff.aitw",
    "aitz": "scripts.protocol_diff.aitz",
    "gui-odyssey": "scripts.protocol_diff.gui_odyssey",
    "agentcpm": "scripts.protocol_diff.agentcpm:AC",
    "agentcpm-aitz": "scripts.protocol_diff.agentcpm:AITZ",
}
ANDROIDCONTROL_SOURCES: tuple[str, ...] = ("infigui", "uis1", "osatlas", "guir1", "uir1")
