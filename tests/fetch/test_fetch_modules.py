"""A download loads what its stream needs: the cryptography package only for encrypted HLS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite

DOWNLOAD_AND_REPORT = """
import sys
from pathlib import Path
from mediadl.engine import Engine
from mediadl.models import Choice
from mediadl.settings import Settings

url, out = sys.argv[1], Path(sys.argv[2])
engine = Engine(Settings(allow_networks=["127.0.0.2/32"], data_dir=out / "data"))
print(engine.download(engine.plan(engine.resolve(url), Choice()), out))
print("cryptography" in sys.modules)
"""


@pytest.mark.parametrize(("asset", "encrypted"), [("hls_plain", False), ("hls_aes", True)])
def test_cryptography_is_loaded_only_for_an_encrypted_stream(
    asset: str, encrypted: bool, site: FixtureSite, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", DOWNLOAD_AND_REPORT, site.url(asset), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    saved, loaded = done.stdout.splitlines()
    assert loaded == str(encrypted)
    assert probe(Path(saved)).video is not None
