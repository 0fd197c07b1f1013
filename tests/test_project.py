"""Project metadata that users and citation tools read (CITATION.cff, the version), and the
house rules between rooms that the code must keep."""

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
