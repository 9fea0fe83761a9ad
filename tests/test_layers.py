"""The wings' one-way doors (shared DESIGN: data <- model <- analysis, io <- cli): a module of a
wing imports only from the wings below it. Read from the source with `ast`, so a new import that
crosses a door fails here."""

import ast
from pathlib import Path

import capacity

PACKAGE = Path(capacity.__file__).parent
ALLOWED = {
    "data": {"data"},
    "model": {"data", "model"},
    "analysis": {"data", "model", "analysis"},
    "io": {"data", "model", "analysis", "io"},
}


LAZY_DOORS = {"model/plan.py": ("io", {"to_excel", "to_csv", "to_json", "to_iamc"})}
"""The one door that opens the other way: `Plan.to_excel(path)` and its siblings are the
planner's API (as `DataFrame.to_excel` is pandas'), so they import the exporters, inside those
methods only; the model itself never uses them."""


def _nodes(tree: ast.AST, skip_functions: set[str]):
    """Every node of `tree`, except the bodies of functions named in `skip_functions`."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.name in skip_functions:
            continue
        yield child
        yield from _nodes(child, skip_functions)


def _imported_wings(path: Path, root: Path = PACKAGE, skip_functions: set[str] = frozenset()) -> set[str]:
    """The wings (`capacity.<wing>`) a module imports, relative or absolute."""
    module = path.relative_to(root.parent).with_suffix("").parts
    package = module[:-1]
    wings = set()
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8")), skip_functions):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ((node.module,) if node.module else ()))
            else:
                name = node.module or ""
            targets = [f"{name}.{alias.name}" for alias in node.names] if node.module is None \
                or name == "capacity" else [name]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        for target in targets:
            parts = target.split(".")
            if parts[0] == "capacity" and len(parts) > 1:
                wings.add(parts[1])
    return wings


def test_every_module_belongs_to_a_wing_or_is_the_face():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "cli.py", "entry.py"]
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and any(p.rglob("*.py"))) \
        == sorted(ALLOWED)


def test_the_entry_point_imports_nothing_before_it_must():
    """`capacity.entry` (the console script) answers --help with the standard library only and
    hands everything else to `capacity.cli` inside `main`."""
    tree = ast.parse((PACKAGE / "entry.py").read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert {alias.name for node in top for alias in node.names} == {"annotations", "sys"}


def test_imports_run_one_way():
    crossings = []
    for wing, allowed in ALLOWED.items():
        for path in sorted((PACKAGE / wing).rglob("*.py")):
            door = LAZY_DOORS.get(str(path.relative_to(PACKAGE)))
            wrong = _imported_wings(path, skip_functions=door[1] if door else set()) - allowed \
                - {"__version__"}
            if wrong:
                crossings.append(f"{path.relative_to(PACKAGE)} imports {sorted(wrong)}")
    assert crossings == []


def test_the_checker_sees_a_crossing(tmp_path):
    # the rule above must be able to fail: an import from io inside model is found
    fake = PACKAGE / "model" / "stages" / "cost.py"
    probe = tmp_path / "capacity" / "model" / "stages" / "cost.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(fake.read_text() + "\nfrom ...io.export import files\n")
    assert "io" in _imported_wings(probe, tmp_path / "capacity")
    assert _imported_wings(fake) == {"data"}
    plan = PACKAGE / "model" / "plan.py"
    assert "io" in _imported_wings(plan)   # the door is there, and only the to_* methods open it
    assert "io" not in _imported_wings(plan, skip_functions=LAZY_DOORS["model/plan.py"][1])
