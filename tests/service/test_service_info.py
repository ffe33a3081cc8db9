"""GET /api/v1/info: what the server runs on, told to strangers without paths or secrets."""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import httpx

from .conftest import AppFactory, open_client


async def _info(make_app: AppFactory, **overrides: object) -> dict[str, object]:
    app = make_app(**overrides)
    async with app.router.lifespan_context(app), open_client(app) as client:
        answer = await client.get("/api/v1/info")
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


async def test_info_reports_versions_and_a_ready_solver(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/v1/info")).json()
    versions = info["versions"]
    assert versions["yt-dlp"] == version("yt-dlp")
    assert versions["yt-dlp-ejs"] == version("yt-dlp-ejs")
    assert versions["js-runtime"].startswith("2.") and versions["ffmpeg"] and versions["pyav"]
    assert info["js_runtime"] == "deno"
    assert info["challenge_solver"] == {"ready": True}
    assert info["healthy"] is True
    assert info["proxy"] == {"configured": False, "scheme": None}
    assert info["cookies"] == {"configured": False}
    names = [item["name"] for item in info["internals"]]
    assert "yt_dlp.extractor.youtube.jsc._builtin.vendor.VERSION" in names
    assert all(set(item) == {"name", "state", "fallback"} for item in info["internals"])


async def test_info_tells_no_path_host_or_credential(make_app: AppFactory, tmp_path: Path) -> None:
    cookies = tmp_path / "operator-cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n")
    info = await _info(
        make_app,
        proxy="socks5h://alice:s3cret@proxy.internal.example:1080",
        cookies_file=cookies,
    )
    assert info["proxy"] == {"configured": True, "scheme": "socks5h"}
    assert info["cookies"] == {"configured": True}
    text = json.dumps(info)
    for secret in (
        "alice",
        "s3cret",
        "proxy.internal",
        "operator-cookies",
        str(tmp_path),
        str(Path(sys.executable).parent),  # where deno lives
    ):
        assert secret not in text, secret


async def test_info_with_the_runtime_off(make_app: AppFactory) -> None:
    info = await _info(make_app, js_runtime="none")
    assert info["js_runtime"] is None
    assert info["challenge_solver"] == {"ready": False}
    assert info["versions"]["js-runtime"] is None  # type: ignore[index]
    assert info["healthy"] is True


async def test_info_is_documented_in_openapi(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schema = spec["paths"]["/api/v1/info"]["get"]["responses"]["200"]["content"]
    ref = schema["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = spec["components"]["schemas"][ref]["properties"]
    for name in ("versions", "js_runtime", "challenge_solver", "internals", "proxy", "cookies"):
        assert name in fields, name
