"""Hostile input against a real ``mediadl serve``: each case asserts its error code and status,
that the internal service (the canary on 127.0.0.3) got no connection at all, and that no byte
of it appears in what the server answered."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediadl.models import Choice
from mediadl.service.tokens import Signer
from mediadl_fixtures.hostile import Canary, HostileSite

pytestmark = pytest.mark.slow

FORBIDDEN = ("link.forbidden", 403)


def resolve(api: httpx.Client, url: str) -> httpx.Response:
    return api.post("/api/v1/resolve", json={"url": url})


def through_tunnel(api: httpx.Client, url: str, **choice: object) -> httpx.Response:
    """Ask for a download link, then fetch it: the answer a browser would get."""
    made = api.post("/api/v1/download", json={"url": url, **choice})
    if made.status_code != 200:
        return made
    return api.get(made.json()["tunnel"])


# --- internal addresses, in every notation -------------------------------------------------------

NOTATIONS = {
    "dotted": "http://127.0.0.3:{port}/secret",
    "decimal": "http://2130706435:{port}/secret",
    "octal": "http://0177.0.0.3:{port}/secret",
    "hex-dotted": "http://0x7f.0.0.3:{port}/secret",
    "hex": "http://0x7f000003:{port}/secret",
    "short": "http://127.3:{port}/secret",
    "ipv6-loopback": "http://[::1]:{port}/secret",
    "ipv4-mapped": "http://[::ffff:127.0.0.3]:{port}/secret",
    "ipv4-mapped-hex": "http://[::ffff:7f00:3]:{port}/secret",
    "unspecified": "http://0.0.0.0:{port}/secret",
    "localhost": "http://localhost:{port}/secret",
    "localhost-dot-upper": "http://LOCALHOST.:{port}/secret",
    "userinfo": "http://user:pass@127.0.0.3:{port}/secret",
    "https": "https://127.0.0.3:{port}/secret",
    "fullwidth-digits": "http://１２７.０.０.３:{port}/secret",
}


@pytest.mark.parametrize("notation", NOTATIONS)
def test_internal_address_in_any_notation_is_refused(
    api: httpx.Client, expect: Any, canary: Canary, notation: str
) -> None:
    url = NOTATIONS[notation].format(port=canary.port)
    expect.refused(resolve(api, url), *FORBIDDEN)


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_public_redirect_to_internal_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any, code: int
) -> None:
    expect.refused(resolve(api, hostile.url(f"/redirect/{code}")), *FORBIDDEN)


@pytest.mark.parametrize("target", ["localhost", "decimal", "mapped"])
def test_redirect_to_internal_name_or_notation_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any, target: str
) -> None:
    expect.refused(resolve(api, hostile.url(f"/redirect-to/{target}")), *FORBIDDEN)


@pytest.mark.parametrize("target", ["ftp", "file"])
def test_redirect_to_another_scheme_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any, target: str
) -> None:
    expect.refused(resolve(api, hostile.url(f"/redirect-to/{target}")), *FORBIDDEN)


def test_meta_refresh_to_internal_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any
) -> None:
    expect.refused(resolve(api, hostile.url("/meta-refresh")), *FORBIDDEN)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.3/x",
        "gopher://127.0.0.3:70/_x",
        "data:text/html,<video>",
        "javascript:alert(1)",
    ],
)
def test_other_schemes_are_refused(api: httpx.Client, expect: Any, url: str) -> None:
    expect.refused(resolve(api, url), "link.unsupported", 400)


# --- pages and manifests that point inside -------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/video-src",
        "/hls/internal-segments.m3u8",
        "/hls/internal-key.m3u8",
        "/hls/internal-master.m3u8",
        "/dash/internal.mpd",
    ],
)
def test_media_pointing_inside_is_refused_in_the_tunnel(
    api: httpx.Client, hostile: HostileSite, expect: Any, path: str
) -> None:
    expect.refused(through_tunnel(api, hostile.url(path)), *FORBIDDEN)


def test_internal_thumbnail_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any
) -> None:
    info = resolve(api, hostile.url("/og-image"))
    assert info.status_code == 200, info.text
    link = info.json()["thumbnail"]
    assert link and "127.0.0.3" not in link  # a signed link to our own proxy
    expect.refused(api.get(link), *FORBIDDEN)


# --- bombs, live, huge, slow ---------------------------------------------------------------------


def test_mpd_bomb_is_refused(
    own_server: Callable[..., Any], hostile: HostileSite, expect: Any
) -> None:
    """Two million fragments from a few hundred bytes: the extraction's memory cap stops it.

    Its own server, with an extraction deadline far out: on a busy machine the suite's 5 s can
    pass before the cap is reached, and then the deadline (504) would answer instead.
    """
    server = own_server("bomb", MEDIADL_EXTRACT_TIMEOUT="300")
    with httpx.Client(base_url=server.base, timeout=300) as api:
        response = resolve(api, hostile.url("/dash/bomb.mpd?seconds=2000"))
    expect.refused(response, "content.too_large", 413)


def test_mpd_listing_too_many_fragments_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any
) -> None:
    response = resolve(api, hostile.url("/dash/bomb.mpd?seconds=20"))  # 20,000 > 1,000
    expect.refused(response, "content.too_many_items", 422)


def test_hls_playlist_with_too_many_segments_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any
) -> None:
    response = through_tunnel(api, hostile.url("/hls/bomb.m3u8"))
    expect.refused(response, "content.too_many_items", 422)


def test_endless_live_playlist_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any
) -> None:
    expect.refused(through_tunnel(api, hostile.url("/hls/live.m3u8")), "content.live", 422)


def test_huge_page_is_refused(api: httpx.Client, hostile: HostileSite, expect: Any) -> None:
    expect.refused(resolve(api, hostile.url("/huge")), "content.too_large", 413)


def test_gzip_bomb_page_is_refused(api: httpx.Client, hostile: HostileSite, expect: Any) -> None:
    expect.refused(resolve(api, hostile.url("/gzip-bomb")), "content.too_large", 413)


def test_slow_drip_page_is_cut_at_the_extraction_deadline(
    api: httpx.Client, hostile: HostileSite, expect: Any
) -> None:
    finished = hostile.drips_finished
    response = resolve(api, hostile.url("/slow"))
    expect.refused(response, "fetch.timeout", 504)
    assert hostile.drips_finished == finished  # cut while the page still dripped


def test_server_stays_responsive_during_a_slow_drip(server_base: str, hostile: HostileSite) -> None:
    drip = f"/slow?for={uuid.uuid4().hex}"
    with httpx.Client(base_url=server_base, timeout=30) as client:
        slow = httpx.Client(base_url=server_base, timeout=30)
        thread = threading.Thread(
            target=lambda: slow.post("/api/v1/resolve", json={"url": hostile.url(drip)})
        )
        thread.start()
        wait_until(lambda: drip in hostile.dripping)  # the extraction reads the drip
        assert client.get("/healthz").status_code == 200
        assert drip in hostile.dripping and thread.is_alive()  # ... and still does
        thread.join()
        slow.close()


def wait_until(condition: Callable[[], bool], guard: float = 60.0) -> None:
    """Poll ``condition``; ``guard`` only keeps a broken server from hanging the run."""
    deadline = time.monotonic() + guard
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


# --- request bodies ------------------------------------------------------------------------------


def test_oversized_body_is_refused(api: httpx.Client, expect: Any) -> None:
    body = b'{"url": "' + b"a" * 100_000 + b'"}'
    response = api.post(
        "/api/v1/resolve", content=body, headers={"Content-Type": "application/json"}
    )
    expect.refused(response, "request.too_large", 413)


def test_malformed_body_is_refused(api: httpx.Client, expect: Any) -> None:
    response = api.post(
        "/api/v1/resolve", content=b'{"url": ', headers={"Content-Type": "application/json"}
    )
    expect.refused(response, "request.invalid", 422)


@pytest.mark.parametrize(
    "extra",
    [
        {"info_json": {"url": "http://127.0.0.3/"}},
        {"http_headers": {"Cookie": "a=1"}},
        {"formats": [{"url": "http://127.0.0.3/"}]},
    ],
)
def test_client_cannot_send_info_or_headers(
    api: httpx.Client, hostile: HostileSite, expect: Any, extra: dict[str, object]
) -> None:
    response = api.post("/api/v1/download", json={"url": hostile.url("/plain-video"), **extra})
    expect.refused(response, "request.invalid", 422)


def test_cobalt_oversized_body_is_refused(api: httpx.Client) -> None:
    body = b'{"url": "' + b"a" * 4096 + b'"}'
    response = api.post(
        "/",
        content=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "error.api.invalid_body"


# --- what strangers write into titles, ids and headers -------------------------------------------


def test_title_cannot_inject_headers_or_paths(api: httpx.Client, hostile: HostileSite) -> None:
    response = through_tunnel(api, hostile.url("/title"))
    assert response.status_code == 200, response.text[:300]
    assert "set-cookie" not in response.headers
    assert "x-evil" not in response.headers
    disposition = response.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    ascii_name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert "/" not in ascii_name and "\\" not in ascii_name and ".." not in ascii_name
    assert response.content[4:8] == b"ftyp"


def test_client_headers_never_reach_the_site(api: httpx.Client, hostile: HostileSite) -> None:
    hostile.seen_headers.clear()
    sneaky = {
        "Cookie": "session=stolen",
        "X-Forwarded-For": "10.0.0.1",
        "X-Sneaky": "sneaky-value",
        "Authorization": "Bearer sneaky",
    }
    response = api.post(
        "/api/v1/resolve", json={"url": hostile.url("/plain-video")}, headers=sneaky
    )
    assert response.status_code == 200, response.text
    assert hostile.seen_headers, "the hostile site got no request"
    for seen in hostile.seen_headers:
        assert "cookie" not in seen and "authorization" not in seen and "x-sneaky" not in seen
        assert "sneaky" not in " ".join(seen.values())
        assert "x-forwarded-for" not in seen


def test_fragment_is_stripped(api: httpx.Client, hostile: HostileSite) -> None:
    response = resolve(api, hostile.url("/plain-video#frag-secret"))
    assert response.status_code == 200, response.text
    assert "frag-secret" not in response.text


# --- tunnels -------------------------------------------------------------------------------------


def test_tampered_tunnel_is_refused(api: httpx.Client, hostile: HostileSite, expect: Any) -> None:
    made = api.post("/api/v1/download", json={"url": hostile.url("/plain-video")})
    assert made.status_code == 200, made.text
    link = made.json()["tunnel"]
    token = link.split("t=", 1)[1]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    response = api.get("/api/v1/tunnel", params={"t": flipped})
    assert (response.status_code, expect.code(response)) == (403, "tunnel.invalid")


def test_tunnel_signed_for_an_internal_url_is_still_guarded(
    api: httpx.Client, expect: Any, canary: Canary, signer: Signer
) -> None:
    """Even a validly signed tunnel (a leaked secret) can't reach inside."""
    token = signer.tunnel(canary.url(), Choice(), item=None, ttl=60)
    expect.refused(api.get("/api/v1/tunnel", params={"t": token}), *FORBIDDEN)


def test_tunnel_replayed_after_expiry_is_refused(
    api: httpx.Client, hostile: HostileSite, expect: Any, signer: Signer
) -> None:
    token = signer.tunnel(hostile.url("/plain-video"), Choice(), item=None, ttl=-1)
    response = api.get("/api/v1/tunnel", params={"t": token})
    assert (response.status_code, expect.code(response)) == (410, "tunnel.expired")


def test_secrets_never_reach_the_log(
    api: httpx.Client, hostile: HostileSite, server_log: Path
) -> None:
    made = api.post("/api/v1/download", json={"url": hostile.url("/plain-video")})
    token = made.json()["tunnel"].split("t=", 1)[1]
    api.get(made.json()["tunnel"])
    api.get(
        "/api/v1/resolve/events",
        params={"url": hostile.url("/plain-video"), "key": "0b7c1c62-6a46-4bd8-9f3e-2d1e0a3c5f11"},
    )
    wait_until(lambda: "/api/v1/resolve/events" in server_log.read_text(errors="replace"))
    log = server_log.read_text(errors="replace")
    assert "/api/v1/tunnel" in log  # the access log is on
    assert token not in log and token[:40] not in log
    assert "0b7c1c62-6a46-4bd8-9f3e-2d1e0a3c5f11" not in log
    assert "security-secret" not in log
