"""The folder put first on ``PATH`` for yt-dlp: under the data directory, this user's alone."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import pytest

from mediadl.engine.ffmpeg import private_bin
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl

OTHER_USER = 65534  # nobody


def _loose(path: Path) -> None:
    path.mkdir()
    path.chmod(0o777)


def _elsewhere(path: Path) -> None:
    target = path.parent.parent / "elsewhere"
    target.mkdir()
    path.symlink_to(target)


def _another_users(path: Path) -> None:
    path.mkdir(mode=0o700)
    os.chown(path, OTHER_USER, OTHER_USER)


def _a_file(path: Path) -> None:
    path.write_text("#!/bin/sh\n")


PLANTS: dict[str, Callable[[Path], None]] = {
    "world-writable": _loose,
    "a link elsewhere": _elsewhere,
    "a file": _a_file,
}
if os.getuid() == 0:  # only root can give a folder to another user
    PLANTS["another user's"] = _another_users


def _is_private(path: Path) -> bool:
    info = path.lstat()
    return (
        stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o777 == 0o700
    )


@pytest.mark.parametrize("plant", PLANTS.values(), ids=list(PLANTS))
def test_a_folder_someone_else_prepared_is_not_used(
    plant: Callable[[Path], None], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    plant(data / "bin")
    if (data / "bin").is_dir():
        (data / "bin" / "ffprobe").write_text("#!/bin/sh\necho planted\n")
    made = private_bin(data)
    assert made == data / "bin"
    assert _is_private(made)
    assert list(made.iterdir()) == []  # nothing planted survives


def test_without_a_usable_data_directory_nothing_goes_on_path(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    assert private_bin(tmp_path / "a-file" / "data") is None


def test_the_cli_links_ffmpeg_under_the_data_directory_not_tmp(
    site: FixtureSite, tmp_path: Path
) -> None:
    temp, data = tmp_path / "tmp", tmp_path / "data"
    temp.mkdir()
    data.mkdir()
    _loose(data / "bin")
    (data / "bin" / "ffprobe").write_text("#!/bin/sh\necho planted\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")},
        "TMPDIR": str(temp),
        "MEDIADL_DATA_DIR": str(data),
        "PATH": "/usr/bin:/bin",  # no system ffmpeg: the bundled one is linked
    }
    done = run_mediadl("info", "--json", site.pages["hls"], env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"]
    assert list(temp.iterdir()) == []
    assert _is_private(data / "bin")
    assert [p.name for p in (data / "bin").iterdir()] == ["ffmpeg"]
    assert (data / "bin" / "ffmpeg").resolve() == Path(imageio_ffmpeg.get_ffmpeg_exe()).resolve()
