"""``config.toml``: the CLI's own defaults, flags spelled as on the command line; a flag given
wins; a file that can't be used stops the command (exit 2) before any request."""

from __future__ import annotations

import os
from pathlib import Path

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl


def with_config(tmp_path: Path, text: str) -> dict[str, str]:
    folder = tmp_path / "xdg" / "mediadl"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "MEDIADL_CONFIG"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return env


def test_defaults_come_from_the_xdg_config_file(site: FixtureSite, tmp_path: Path) -> None:
    out = tmp_path / "videos"
    env = with_config(tmp_path, f'[get]\nquality = "360"\noutput = "{out}"\nno-playlist = true\n')
    done = run_mediadl("get", site.pages["hls"], env=env)
    assert done.returncode == 0, done.stderr
    (path,) = out.iterdir()
    result = probe(path)
    assert result.video is not None and result.video.height == 360


def test_a_flag_wins_over_the_file(site: FixtureSite, tmp_path: Path) -> None:
    env = with_config(tmp_path, '[get]\nquality = "360"\n')
    done = run_mediadl("get", site.pages["hls"], "-q", "720", "-o", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.glob("*.mp4")
    result = probe(path)
    assert result.video is not None and result.video.height == 720


def test_an_unknown_flag_in_the_file_stops_the_command(site: FixtureSite, tmp_path: Path) -> None:
    env = with_config(tmp_path, '[get]\nqualty = "360"\n')
    done = run_mediadl("get", site.pages["hls"], "-o", str(tmp_path), env=env)
    assert done.returncode == 2
    assert "config.toml: [get] has no flag --qualty" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.glob("*.mp4")) == []


def test_a_file_that_is_not_toml_says_where(tmp_path: Path) -> None:
    env = with_config(tmp_path, "[get\nquality = 360\n")
    done = run_mediadl("info", "http://127.0.0.2:1/x", env=env)
    assert done.returncode == 2
    assert "config.toml" in done.stderr and "line 1" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_value_is_refused_as_the_flag_would_be(tmp_path: Path) -> None:
    env = with_config(tmp_path, '[get]\nquality = "361"\n')
    done = run_mediadl("get", "http://127.0.0.2:1/x", env=env)
    assert done.returncode == 2
    assert "use best or one of" in done.stderr


def test_the_off_side_of_an_on_off_flag_sets_it_off(site: FixtureSite, tmp_path: Path) -> None:
    """``no-overwrites = true`` keeps the file already saved (skipped, not downloaded again);
    ``force-overwrites = true`` replaces it."""
    url = site.url("video")
    out = tmp_path / "videos"
    first = run_mediadl("get", url, "--no-metadata", "-o", str(out))
    assert first.returncode == 0, first.stderr
    (saved,) = out.iterdir()
    saved.write_bytes(b"kept as it is")

    site.reset_counters()
    keep = run_mediadl(
        "get", url, "-o", str(out), env=with_config(tmp_path / "a", "[get]\nno-overwrites = true\n")
    )
    assert keep.returncode == 0, keep.stderr
    assert "already downloaded" in keep.stderr
    assert saved.read_bytes() == b"kept as it is"
    assert site.stats.requests["/media/progressive.mp4"] == 0

    replace = run_mediadl(
        "get",
        url,
        "--no-metadata",
        "-o",
        str(out),
        env=with_config(tmp_path / "b", "[get]\nforce-overwrites = true\n"),
    )
    assert replace.returncode == 0, replace.stderr
    assert [path.name for path in out.iterdir()] == [saved.name]
    assert saved.read_bytes() == site.media["progressive"].read_bytes()
