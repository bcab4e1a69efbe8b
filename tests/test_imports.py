"""The import graph of the whole tree: no circle between modules, and layers that point one way.

Every `import` statement of every module of our packages counts, those inside functions included (a
lazy import still ties two modules together; it only changes when the tie is made).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("actions", "episodes", "agent", "training", "serving", "eval", "ui", "phone_r1")

# Circles tolerated for now (none since the eval split: eval.loop is the worker loop both eval.run and
# eval.own_history import); the test below fails while a listed circle no longer exists.
KNOWN_CIRCLES: set[frozenset[str]] = set()

# The data layer's exports embed the agent's prompt (and the `data` command reads checkpoint settings),
# so they sit above `agent`, while the rest of `episodes` sits below it.
EXPORTS = ("episodes.cli", "episodes.convert", "episodes.verl", "episodes.verl_reward")

# Which layer may import which (docs/architecture.md draws it). `phone_r1` loads each area's CLI by
# name; nothing imports `ui`.
ALLOWED: dict[str, set[str]] = {
    "actions": set(),
    "episodes": {"actions"},
    "agent": {"actions", "episodes"},
    "exports": {"actions", "episodes", "agent"},
    "training": {"actions", "episodes", "agent"},
    "serving": {"actions", "episodes", "agent"},
    "eval": {"actions", "episodes", "agent"},
    "ui": {"actions", "episodes", "agent", "eval"},
    "phone_r1": {"actions", "episodes", "exports", "agent", "training", "serving", "eval"},
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that `name` imports anywhere in its file (`from pkg import submodule` included)."""

    def ours(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {m for a in node.names if (m := ours(a.name))}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                target = ours(f"{base}.{alias.name}")
                target = target if target and target != name else ours(base)
                if target:
                    found.add(target)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str:
    if any(module == e or module.startswith(e + ".") for e in EXPORTS):
        return "exports"
    return module.split(".")[0]


def test_the_walk_sees_lazy_and_package_imports():
    edges = graph()
    assert "agent.prompt" in edges["episodes.convert"]  # imported inside a function
    assert "episodes.importers.base" in edges["episodes.importers"]  # `from pkg.mod import x` in a function
    assert len(edges) > 100


def test_no_import_circle_between_modules():
    found = set(circles(graph()))
    assert found - KNOWN_CIRCLES == set(), f"import circles: {[sorted(c) for c in found - KNOWN_CIRCLES]}"
    gone = KNOWN_CIRCLES - found
    assert not gone, f"no longer a circle, remove it from KNOWN_CIRCLES: {[sorted(c) for c in gone]}"


def test_layers_point_one_way():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if layer(target) != layer(module) and layer(target) not in ALLOWED[layer(module)]
    )
    assert wrong == []


def test_nothing_below_training_imports_training():
    below = ("eval", "ui", "agent", "serving", "actions", "episodes")
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        if module.split(".")[0] in below
        for target in targets
        if target.split(".")[0] == "training"
    )
    assert offenders == []
