"""The library's import graph follows the layer order of the design, and has no cycles.

Layers, lowest first (``shared/DESIGN.md``); a module may import from its own
layer or below, never from above:

1. errors, paths, color, io
2. data/ (photos, samples, statistics, training crops), quantize, levin/, backbones
3. models/, losses, metrics
4. checkpoint, methods/, train/
5. infer, evaluate, video
6. viz, widgets/, course/, exercises/, cli

Every ``import`` statement counts, also those inside functions: a lazy import
still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

from colorkit.paths import REPO_ROOT

PKG = REPO_ROOT / "colorkit"
LAYERS = {
    1: ["errors", "paths", "color", "io"],
    2: ["data", "quantize", "levin", "backbones"],
    3: ["models", "losses", "metrics"],
    4: ["checkpoint", "methods", "train"],
    5: ["infer", "evaluate", "video"],
    6: ["viz", "widgets", "course", "exercises", "cli", "study"],
}
LAYER_OF = {unit: n for n, units in LAYERS.items() for unit in units}


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO_ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str | None:
    """``colorkit.train.loop`` -> ``train``; ``colorkit`` itself -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "colorkit" else None


def imports_of(path: Path) -> set[str]:
    """The colorkit modules ``path`` imports (absolute, resolved relative imports)."""
    modules = {module_name(p) for p in PKG.rglob("*.py")}
    here = module_name(path)
    found = imports_of_text(path.read_text(), here, is_package=path.name == "__init__.py")
    return {m for m in found if m in modules and m != here}


def imports_of_text(text: str, here: str, is_package: bool = False) -> set[str]:
    """Every colorkit module name an import statement of ``text`` (module ``here``) may refer to."""
    tree = ast.parse(text)
    package = here if is_package else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from colorkit import data`
    return {m for m in found if m.startswith("colorkit")}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PKG.rglob("*.py"))}


def test_every_unit_has_a_layer():
    units = {unit_of(m) for m in graph()} - {None}
    assert units <= set(LAYER_OF), f"modules with no layer in this test and the design: {units - set(LAYER_OF)}"


def violations(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for mod, deps in g.items():
        unit = unit_of(mod)
        if unit is None:  # colorkit/__init__.py
            continue
        for dep in deps:
            dep_unit = unit_of(dep)
            if dep_unit and LAYER_OF[dep_unit] > LAYER_OF[unit]:
                bad.append(f"{mod} (layer {LAYER_OF[unit]}) imports {dep} (layer {LAYER_OF[dep_unit]})")
    return sorted(bad)


def test_no_import_goes_up_a_layer():
    bad = violations(graph())
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g.get(m, ())):
            if d == m or d not in g:
                continue
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (c := visit(d)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(g):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_no_import_cycles():
    g = graph()
    # a package's __init__ re-exporting its own modules is not a cycle between units
    g = {m: {d for d in deps if not (m == d.rpartition(".")[0] and m.count(".") >= 1)} for m, deps in g.items()}
    cycle = find_cycle(g)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checks_see_lazy_imports_and_upward_ones(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\n\ndef f():\n    from colorkit import evaluate\n"
                     "    from colorkit.infer import Colorizer\n")
    found = {m for m in imports_of_text(probe.read_text(), "colorkit.train.probe")}
    assert {"colorkit.evaluate", "colorkit.infer"} <= found
    assert violations({"colorkit.train.probe": found & {"colorkit.evaluate", "colorkit.infer"}}) == [
        "colorkit.train.probe (layer 4) imports colorkit.evaluate (layer 5)",
        "colorkit.train.probe (layer 4) imports colorkit.infer (layer 5)"]
    assert violations({"colorkit.infer": {"colorkit.train.loop", "colorkit.evaluate"}}) == []


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
