"""constraints.txt, the tested set of versions, agrees with pyproject.toml's requirements."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(text) for text in listed]


def test_every_requirement_is_locked_at_a_version_it_allows() -> None:
    pins = locked()
    assert all(pins.values()), "exact versions only (name==version)"
    for requirement in requirements():
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} isn't in constraints.txt: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt has {name}=={pins[name]}, pyproject.toml wants "
            f"{requirement.specifier}: run `make lock`"
        )


def test_yt_dlp_is_a_floor_so_operators_can_take_a_newer_one() -> None:
    (yt_dlp,) = [r for r in requirements() if r.name == "yt-dlp"]
    assert [spec.operator for spec in yt_dlp.specifier] == [">="]
    assert yt_dlp.specifier.contains("2999.1.1")
