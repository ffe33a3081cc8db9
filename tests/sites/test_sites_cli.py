"""``mediadl sites``: the catalogue offline, a link's extractor offline, a check of the samples."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mediadl import sites
from mediadl.cli import app
from mediadl.sites.catalog import CATALOG
from mediadl_fixtures.replicas import ReplicaSite
from support.cli import run_mediadl


def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return run_mediadl(
        "sites", *args, env={**os.environ, "MEDIADL_DATA_DIR": str(data)}, timeout=300
    )


def test_the_list_is_made_offline(no_network: list[str]) -> None:
    done = CliRunner().invoke(app, ["sites", "--json"])
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)
    assert [r["title"] for r in rows] == [s.title for s in CATALOG]
    assert all(r["sample"].startswith("https://") for r in rows)
    gaana = next(r for r in rows if r["title"] == "Gaana")
    assert gaana == {
        "title": "Gaana",
        "status": "unavailable",
        "sample": "https://gaana.com/song/tum-hi-ho",
        "error": "site.subscription",
    }
    assert next(r for r in rows if r["title"] == "Twitch")["extractor"] == "TwitchVod"
    table = CliRunner().invoke(app, ["sites"])
    assert table.exit_code == 0
    assert "BluTV" in table.stdout and "site.drm" in table.stdout
    assert no_network == []


@pytest.mark.parametrize(
    ("url", "extractor", "by"),
    [
        ("https://www.twitch.tv/videos/6528877", "TwitchVod", "yt-dlp"),
        ("youtube.com/watch?v=OLCJYT5y8Bo", "Youtube", "yt-dlp"),
        ("https://www.blutv.com/dizi/yerli/x/1-sezon/1-bolum", "BluTV", "mediadl"),
        ("https://example.com/clip.mp4", "Generic", "yt-dlp"),
    ],
)
def test_match_names_the_engines_choice_offline(
    url: str, extractor: str, by: str, no_network: list[str]
) -> None:
    done = CliRunner().invoke(app, ["sites", "--match", url, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["extractor"] == extractor
    assert json.loads(done.stdout)["by"] == by
    assert no_network == []


def test_match_refuses_what_is_not_a_link() -> None:
    done = CliRunner().invoke(app, ["sites", "--match", "not a link"])
    assert done.exit_code == 1
    assert "link.invalid" in done.stderr


def _own_keys() -> set[str]:
    return {name for ie in sites.extractors() for name in (ie.ie_key(), ie.IE_NAME)}


def test_check_against_replicas(replicas: ReplicaSite, tmp_path: Path) -> None:
    """Sites mediadl reads itself pass against their replica; unavailable ones pass with their
    own code; yt-dlp's sites have no replica, so they fail with a code (the page isn't there)."""
    done = run("--check", "--base", replicas.base_url, "--json", data=tmp_path)
    assert "Traceback" not in done.stderr
    rows = {r["title"]: r for r in json.loads(done.stdout)}
    assert list(rows) == [s.title for s in CATALOG]
    own = _own_keys()
    for site in CATALOG:
        row = rows[site.title]
        assert row["url"].startswith(f"{replicas.base_url}/"), row
        if site.status == "unavailable":
            assert (row["ok"], row["error"]) == (True, site.error), row
        elif site.extractor in own:
            assert row["ok"] is True, row
        else:
            assert row["ok"] is False and row["error"] == "content.unavailable", row
    assert done.returncode == 1  # not all passed
    blutv = [r for r in replicas.requests if "blutv" in r.path]
    assert blutv == []


def test_check_exits_0_when_every_chosen_site_passes(replicas: ReplicaSite, tmp_path: Path) -> None:
    done = run(
        "--check", "--base", replicas.base_url, "--site", "BluTV", "--site", "gaana", data=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "ok (site.drm)" in done.stdout and "ok (site.subscription)" in done.stdout
    assert "2 of 2 passed" in done.stdout


def test_check_without_a_connection_says_so_and_stops(tmp_path: Path) -> None:
    # nothing listens there: the first hosts refuse, as they would with no internet
    done = run("--check", "--base", "http://127.0.0.3:9", data=tmp_path)
    assert done.returncode == 1
    assert "no internet: couldn't reach 127.0.0.3:9" in done.stderr
    assert done.stdout == ""


@pytest.mark.network
def test_every_sample_reads_live(tmp_path: Path) -> None:
    done = run("--check", "--json", data=tmp_path)
    failed = [r for r in json.loads(done.stdout) if not r["ok"]]
    assert failed == []
