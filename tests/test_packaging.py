"""What `pip install mediadl` installs: the product, never the fixture site (its SSRF redirectors,
decompression bombs and replicas of real sites stay a developer's tool, fixtures/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_product_wheel_holds_mediadl_and_not_the_fixture_site(tmp_path: Path) -> None:
    # Built from a copy of what a clone holds, so no stale build/ folder can add files.
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    junk = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", tree / "src", ignore=junk)
    shutil.copytree(ROOT / "fixtures", tree / "fixtures", ignore=junk)
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(tree)],
        check=True,
        capture_output=True,
        timeout=280,
    )
    (wheel,) = out.glob("mediadl-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = z.read(entry_points).decode()
    assert "mediadl/entry.py" in names
    assert "mediadl/engine/fetch/native.py" in names
    assert any(n.startswith("mediadl/web/static/") for n in names)
    assert not [n for n in names if "fixtures" in n.split("/")[0]]
    dist_info = wheel.name.split("-py")[0] + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"mediadl", dist_info}
    assert "mediadl = mediadl.entry:main" in scripts
    assert "mediadl-fixtures" not in scripts
