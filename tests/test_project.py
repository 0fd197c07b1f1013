"""Project metadata that users and citation tools read (CITATION.cff, the version), and the
house rules between rooms that the code must keep: no import circle between ltrr's modules,
no arrow from a lower room to a higher one (:data:`ROOM_LEVELS`, docs/architecture.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

import ltrr

ROOT = Path(__file__).resolve().parents[1]


def test_citation_cff_is_cff_1_2_with_the_package_version() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):  # required by the CFF 1.2 schema
        assert cff[key], key
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    assert str(cff["version"]) == ltrr.__version__


def test_pyproject_version_and_console_script() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == ltrr.__version__
    assert project["scripts"]["ltrr"] == "ltrr.cli:main"
    assert "obp==0.4.1" in project["dependencies"]


def imported_rooms(room: str) -> set[str]:
    """The rooms of ltrr (first part after ``ltrr.``) that the modules of ``room`` import,
    read from their source (``import`` and ``from ... import``, at any depth)."""
    import ast

    found = set()
    for path in (ROOT / "ltrr" / room).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "ltrr" and len(parts) > 1:
                    found.add(parts[1])
    return found - {room}


def test_the_kernel_imports_no_room_and_simulation_and_ranking_not_each_other() -> None:
    """The per-step arithmetic (``ltrr/kernel``) is a leaf both the simulated world and the
    ranking stage import; neither of those two imports the other."""
    assert imported_rooms("kernel") <= {"errors"}
    assert "ranking" not in imported_rooms("simulation")
    assert "simulation" not in imported_rooms("ranking")


def test_the_selection_room_imports_none_that_imports_it() -> None:
    """Policies, plans, features and the PyTerrier ``Selector`` sit below the simulated world and
    the ranking stage (both import them): the selector takes prices as an object and fuses
    ``fit``'s pages with pyterrier_alpha, rather than importing either room."""
    assert not imported_rooms("selection") & {"simulation", "ranking", "experiments", "ope",
                                              "results"}


# The rooms of ltrr (``ltrr/<room>/`` or ``ltrr/<room>.py``) from the bottom up. A module may
# import its own room's modules and those of rooms on lower levels, never a room on its own
# level or a higher one. ``ltrr/cli.py`` (the command line) is the top; the package itself
# (``ltrr/__init__.py``: ``__version__`` and the lazy API, which imports nothing when read)
# may be imported from anywhere. docs/architecture.md ("Rooms") states the same order.
ROOM_LEVELS: list[tuple[str, ...]] = [
    ("errors",),
    ("compat", "paths", "contracts"),
    ("kernel", "registry"),
    ("datasets", "evaluation", "decision_log"),
    ("arms", "selection"),
    ("simulation", "ranking", "ope"),
    ("results",),
    ("experiments", "check"),
    ("cli", "testing"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree) -> set[int]:
    """The nodes under ``if TYPE_CHECKING:``: imports for annotations only, never run."""
    import ast

    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def module_imports() -> dict[str, set[str]]:
    """Every module of ltrr and the ltrr modules it imports, read from its source: ``import``
    and ``from ... import`` at any depth (an import inside a function is an arrow too, only
    later), relative ones resolved, ``from package import module`` as that module;
    ``if TYPE_CHECKING:`` imports left out (they never run)."""
    import ast

    paths = {_module_name(path): path for path in (ROOT / "ltrr").rglob("*.py")}

    def known(name: str) -> str:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text())
        skipped = _type_checking_nodes(tree)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([node.module] if node.module else []))
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in paths else base
                         for alias in node.names]
            else:
                continue
            found.update(known(name) for name in names if name.split(".")[0] == "ltrr")
        graph[module] = found - {module, ""}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan): each is a circle."""
    import sys

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def room_of(module: str) -> str | None:
    """``ltrr.arms.lexical`` -> ``arms``, ``ltrr.errors`` -> ``errors``; None for the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_no_import_circle_between_ltrr_modules() -> None:
    circles = import_circles(module_imports())
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_no_arrow_from_a_lower_room_to_a_higher_one() -> None:
    level = {room: i for i, rooms in enumerate(ROOM_LEVELS) for room in rooms}
    graph = module_imports()
    rooms = {room_of(module) for module in graph} - {None}
    assert rooms <= set(level), f"rooms without a level in ROOM_LEVELS: {rooms - set(level)}"
    wrong = sorted(f"{module} -> {target}" for module, targets in graph.items()
                   for target in targets
                   if room_of(module) and room_of(target) and room_of(module) != room_of(target)
                   and level[room_of(target)] >= level[room_of(module)])
    assert not wrong, "arrows to a room on the same level or higher: " + ", ".join(wrong)


def test_the_import_reader_sees_lazy_imports_and_skips_type_checking_ones() -> None:
    """The rules above read what they must: the reader finds an import inside a function
    (the API imports the runner there) and leaves out one under ``TYPE_CHECKING``."""
    graph = module_imports()
    assert "ltrr.experiments.runner" in graph["ltrr.experiments.api"]  # inside run()
    assert "ltrr.datasets.base" not in graph["ltrr.arms"]  # for an annotation: TYPE_CHECKING
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_tests_are_laid_out_like_the_code() -> None:
    """Each folder under tests/ is named for the room of ltrr whose modules it tests; the tests
    of the top-level modules (registry, contracts, check, paths, compat, the project) and the
    shared helpers (conftest.py, worlds.py, the plugin modules) stand in tests/ itself."""
    rooms = {p.name for p in (ROOT / "ltrr").iterdir() if (p / "__init__.py").is_file()}
    folders = {p.name for p in (ROOT / "tests").iterdir()
               if p.is_dir() and p.name != "__pycache__"}
    assert folders <= rooms, f"test folders that name no room of ltrr: {folders - rooms}"
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), "two test files share a name (pytest imports both)"
    assert [p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("conftest.py")] \
        == ["tests/conftest.py"]
    import ast

    leaning = []  # a test module importing another: shared pieces belong in tests/worlds.py
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            leaning += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                        if n.startswith("test_")]
    assert leaning == []
