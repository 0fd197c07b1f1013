"""Project metadata that users and citation tools read: CITATION.cff and the version."""

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
