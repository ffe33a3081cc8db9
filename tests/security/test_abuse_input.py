"""Input a stranger controls never makes a real ``mediadl serve`` answer 500 or log a traceback:
absurd numbers in headers, control characters in titles, bodies sent in chunks, links to
schemes that can never be fetched inside a manifest, and streams cut mid-way."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mediadl.engine.probe import probe
from mediadl_fixtures.hostile import HostileSite
from support.cli import run_mediadl

pytestmark = pytest.mark.slow

HUGE = "9" * 4301  # more digits than Python turns into an int by default


def tracebacks(log: Path) -> int:
    return log.read_text(errors="replace").count("Traceback (most recent call last)")


@pytest.fixture
def no_traceback(server_log: Path) -> Iterator[None]:
    """The server's log gains no traceback during the test."""
    before = tracebacks(server_log)
    yield
    assert tracebacks(server_log) == before, server_log.read_text(errors="replace")[-3000:]


def tunnel(api: httpx.Client, url: str, **choice: object) -> str:
    made = api.post("/api/v1/download", json={"url": url, **choice})
    assert made.status_code == 200, made.text
    return str(made.json()["tunnel"])


# --- numbers in headers --------------------------------------------------------------------------


def test_a_range_starting_past_any_size_is_416(
    api: httpx.Client, hostile: HostileSite, expect: Any, no_traceback: None
) -> None:
    link = tunnel(api, hostile.url("/plain-video"))
    response = api.get(link, headers={"Range": f"bytes={HUGE}-"})
    expect.refused(response, "request.range", 416)


def test_a_range_ending_past_any_size_is_the_whole_file(
    api: httpx.Client, hostile: HostileSite, no_traceback: None
) -> None:
    link = tunnel(api, hostile.url("/plain-video"))
    whole = api.get(link)
    response = api.get(link, headers={"Range": f"bytes=0-{HUGE}"})
    assert response.status_code in (200, 206), response.text[:300]
    assert response.content == whole.content
    suffix = api.get(link, headers={"Range": f"bytes=-{HUGE}"})
    assert suffix.status_code in (200, 206), suffix.text[:300]
    assert suffix.content == whole.content


def test_a_zero_padded_range_is_read_as_its_number(
    api: httpx.Client, hostile: HostileSite, no_traceback: None
) -> None:
    link = tunnel(api, hostile.url("/plain-video"))
    whole = api.get(link)
    response = api.get(link, headers={"Range": "bytes=" + "0" * 5000 + "10-" + "0" * 5000 + "19"})
    assert response.status_code == 206, response.text[:300]
    assert response.content == whole.content[10:20]


def test_an_absurd_content_length_is_refused(server_base: str, no_traceback: None) -> None:
    """Sent by hand: HTTP clients refuse to write such a header."""
    host, port = server_base.removeprefix("http://").split(":")
    head = (
        f"POST /api/v1/resolve HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {HUGE}\r\nConnection: close\r\n\r\n{{}}"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(65536).decode(errors="replace")
    status = int(answer.split(" ", 2)[1])
    assert status in (400, 413), answer[:300]


@pytest.mark.parametrize("field", ["quality", "item", "audio_bitrate"])
def test_an_absurd_number_in_a_body_is_invalid(
    api: httpx.Client, hostile: HostileSite, expect: Any, no_traceback: None, field: str
) -> None:
    body = json.dumps({"url": hostile.url("/plain-video")})[:-1] + f', "{field}": {HUGE}}}'
    headers = {"Content-Type": "application/json"}
    response = api.post("/api/v1/download", content=body, headers=headers)
    expect.refused(response, "request.invalid", 422)


# --- bodies in chunks ----------------------------------------------------------------------------


def test_a_chunked_body_over_the_limit_is_413(
    api: httpx.Client, expect: Any, no_traceback: None
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"url": "'
        for _ in range(20):
            yield b"a" * 8192
        yield b'"}'

    response = api.post(
        "/api/v1/resolve", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    expect.refused(response, "request.too_large", 413)


# --- control characters in titles ----------------------------------------------------------------

TITLES = {
    "nul": "before\x00after",
    "escape": "bell\x07 and \x1b[31mred",
    "newline": "two\nlines\r\nand a tab\there",
    "delete": "del\x7fete \x85 c1",
}


@pytest.mark.parametrize("container", ["mkv", "webm"])  # remux, transcode
@pytest.mark.parametrize("title", TITLES)
def test_control_characters_in_a_title_still_make_a_file(
    api: httpx.Client, hostile: HostileSite, no_traceback: None, container: str, title: str
) -> None:
    page = hostile.url("/title?t=" + quote(TITLES[title] + " Ünïcödé 日本語 عربى"))
    response = api.get(tunnel(api, page, container=container))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["x-mediadl-mode"] in ("remux", "transcode")
    assert response.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: Matroska / WebM


# --- links that can never be fetched, inside manifests -------------------------------------------

FOREIGN = ["file", "concat", "subfile", "ftp", "gopher", "data", "crypto"]
GOOD_SEGMENT = "/segment.ts?from=foreign"


@pytest.mark.parametrize("scheme", FOREIGN)
def test_a_segment_that_can_never_be_fetched_fails_at_once(
    api: httpx.Client, hostile: HostileSite, expect: Any, no_traceback: None, scheme: str
) -> None:
    """Refused while the playlist is read: not one segment is asked for, nothing is retried."""
    hostile.hits.clear()
    page = hostile.url(f"/hls/foreign/segment/{scheme}.m3u8")
    response = api.get(tunnel(api, page))
    expect.refused(response, "content.unfetchable", 502)
    assert hostile.hits[GOOD_SEGMENT] == 0


@pytest.mark.parametrize("place", ["key", "init"])
@pytest.mark.parametrize("scheme", ["file", "data", "crypto"])
def test_a_key_or_init_section_that_can_never_be_fetched_fails_at_once(
    api: httpx.Client,
    hostile: HostileSite,
    expect: Any,
    no_traceback: None,
    place: str,
    scheme: str,
) -> None:
    hostile.hits.clear()
    page = hostile.url(f"/hls/foreign/{place}/{scheme}.m3u8")
    response = api.get(tunnel(api, page))
    expect.refused(response, "content.unfetchable", 502)
    assert hostile.hits[GOOD_SEGMENT] == 0


# --- what a stranger can make the server log -----------------------------------------------------


def test_a_stream_cut_midway_logs_one_warning_line(
    api: httpx.Client, hostile: HostileSite, server_log: Path
) -> None:
    before = server_log.read_text(errors="replace").splitlines()
    link = tunnel(api, hostile.url("/hls/cut.m3u8"))
    with api.stream("GET", link) as response:
        assert response.status_code == 200  # the stream had begun when the site refused
        request_id = response.headers["x-request-id"]
        with pytest.raises(httpx.HTTPError):  # cut, never taken for a whole file
            for _ in response.iter_bytes():
                pass
    after = server_log.read_text(errors="replace").splitlines()[len(before) :]
    assert not any("Traceback" in line for line in after), after
    loud = [line for line in after if " WARNING " in line or " ERROR " in line]
    assert len(loud) == 1, after
    assert " WARNING " in loud[0] and "fetch.forbidden" in loud[0] and request_id in loud[0]


@pytest.mark.parametrize("container", ["mkv", "webm"])
def test_control_characters_in_a_title_still_make_a_file_from_the_command_line(
    hostile: HostileSite, tmp_path: Path, container: str
) -> None:
    page = hostile.url("/title?t=" + quote(TITLES["nul"] + TITLES["escape"] + " 日本語"))
    done = run_mediadl("get", page, "--container", container, "--json", "-o", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    (item,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert item["error"] is None
    made = probe(Path(item["path"]))
    assert made.video is not None and made.duration and made.duration > 1
