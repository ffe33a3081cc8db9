"""An outside client can't tell which internal host names exist: a name that leads to a refused
address is answered like one that doesn't resolve, on every face of a real ``mediadl serve``."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mediadl_fixtures.server import FixtureSite
from support.cli import run_mediadl
from support.server import Server, serving

pytestmark = pytest.mark.slow

INTERNAL = "db.internal.test"
"""Resolves to 10.0.0.5, an address the server refuses."""
MISSING = "nothing.internal.test"
"""Doesn't resolve."""

REBOUND = "rebound.internal.test"
"""The fixture site's address while extracting, then 10.0.0.5 when the server downloads."""
VANISHED = "vanished.internal.test"
"""The fixture site's address while extracting, then no answer when the server downloads."""

RESOLVER = f"""
import multiprocessing
import socket

_system = socket.getaddrinfo


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    name = host.decode() if isinstance(host, bytes) else host
    if name == {INTERNAL!r}:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port or 0))]
    if name == {MISSING!r}:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    if name in ({REBOUND!r}, {VANISHED!r}):  # the fixture site while the page is read...
        if multiprocessing.current_process().name != "MainProcess":  # an extraction
            return _system("127.0.0.2", port, family, type, proto, flags)
        if name == {REBOUND!r}:  # ...then an internal address, or nothing, for the download
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port or 0))]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _system(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)


socket.getaddrinfo = getaddrinfo
"""
"""The server's name lookups, as a site's DNS would answer them (no query leaves the machine):
installed in every process of the server through ``sitecustomize``."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("say-less")
    (folder / "dns").mkdir()
    (folder / "dns" / "sitecustomize.py").write_text(RESOLVER)
    path = os.pathsep.join([str(folder / "dns"), *sys.path])
    with serving(folder, env={"PYTHONPATH": path}) as running:
        yield running


def native(server: Server, url: str) -> tuple[int, dict[str, Any]]:
    r = httpx.post(f"{server.base}/api/v1/download", json={"url": url}, timeout=60)
    return r.status_code, r.json()


def cobalt(server: Server, url: str) -> tuple[int, dict[str, Any]]:
    headers = {"Accept": "application/json"}
    r = httpx.post(f"{server.base}/", json={"url": url}, headers=headers, timeout=60)
    return r.status_code, r.json()


def _without_url(body: dict[str, Any], url: str) -> dict[str, Any]:
    error = dict(body["error"])
    context = dict(error.pop("context", {}))
    if context.get("url") == url:
        context["url"] = "<the link>"
    for key in ("service", "host"):  # cobalt's service, a fetch's host: the link's own host
        if context.get(key) == urlsplit(url).hostname:
            context[key] = "<the link's host>"
    return {**body, "error": {**error, "context": context}}


@pytest.mark.parametrize("path", ["/video.mp4", "/watch?v=1"])
def test_a_refused_name_answers_like_a_missing_one(server: Server, path: str) -> None:
    internal, missing = f"http://{INTERNAL}{path}", f"http://{MISSING}{path}"
    for face in (native, cobalt):
        status, body = face(server, internal)
        missing_status, missing_body = face(server, missing)
        assert status == missing_status
        assert _without_url(body, internal) == _without_url(missing_body, missing)
        echoed = str(_without_url(body, internal)).replace(internal, "")
        assert INTERNAL not in echoed  # only its own link (and its host), echoed
    assert native(server, internal)[0] == 502
    assert native(server, internal)[1]["error"]["code"] == "fetch.failed"
    log = server.log.read_text()
    assert f"link.forbidden: {INTERNAL}" in log, "the log keeps the real reason"


def test_a_tunnel_to_a_refused_name_fails_like_one_to_a_missing_name(
    server: Server, site: FixtureSite
) -> None:
    answers = []
    for name in (REBOUND, VANISHED):
        media = site.url("/media/progressive.mp4").replace("127.0.0.2", name)
        status, body = native(server, media)
        assert status == 200, body
        tunnel = httpx.get(body["tunnel"], timeout=60)
        answers.append((tunnel.status_code, _without_url(tunnel.json(), media)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 502
    assert REBOUND not in str(answers[0])


def test_an_address_written_as_such_is_still_refused_as_such(server: Server) -> None:
    status, body = native(server, "http://10.0.0.5/video.mp4")
    assert status == 403 and body["error"]["code"] == "link.forbidden"


def test_the_cli_says_the_precise_reason(tmp_path: Path) -> None:
    """A person's own tool tells them what happened."""
    (tmp_path / "sitecustomize.py").write_text(RESOLVER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])
    env["MEDIADL_DATA_DIR"] = str(tmp_path / "data")
    done = run_mediadl("info", "--deny-private", f"http://{INTERNAL}/video.mp4", env=env)
    assert done.returncode == 1
    assert "link.forbidden" in done.stderr
