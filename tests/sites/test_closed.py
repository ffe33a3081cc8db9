"""Sites that can't be downloaded any more: their own code, at once, in every face, no request."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from mediadl import errors, sites
from mediadl.engine import Engine
from mediadl.settings import Settings
from mediadl.sites.closed import BluTVIE, GaanaIE, MxTakatakIE
from mediadl_fixtures.replicas import ReplicaSite
from support.cli import run_mediadl

CASES = [
    (
        BluTVIE,
        "https://www.blutv.com/dizi/yerli/x/1-sezon/1-bolum",
        "site.drm",
        422,
        ("HBO Max", "DRM"),
    ),
    (
        MxTakatakIE,
        "https://www.mxtakatak.com/xt0.3a20d8ff5fce42bbb2f4a7ec8bc26e7b",
        "site.closed",
        410,
        ("closed in 2022", "Moj"),
    ),
    (
        MxTakatakIE,
        "https://v.mxtakatak.com/vQZT/b3845979",
        "site.closed",
        410,
        ("Moj",),
    ),
    (GaanaIE, "https://gaana.com/song/tum-hi-ho", "site.subscription", 403, ("subscribers",)),
    (GaanaIE, "https://gaana.com/album/simmba", "site.subscription", 403, ("encrypted",)),
]
IDS = [url.split("/")[2] + "-" + code for _, url, code, _, _ in CASES]


@pytest.mark.parametrize(("ie", "url", "code", "status", "words"), CASES, ids=IDS)
def test_the_real_link_is_answered_without_any_request(
    ie: type[BluTVIE],
    url: str,
    code: str,
    status: int,
    words: tuple[str, ...],
    settings: Settings,
    no_network: list[str],
) -> None:
    with pytest.raises(errors.SiteError) as caught:
        Engine(settings, sites.extractors()).resolve(url)
    err = caught.value
    assert (err.code, err.status) == (code, status)
    assert all(w in err.message for w in words), err.message
    assert err.context["site"] == ie.IE_NAME
    assert no_network == []


@pytest.mark.parametrize(("ie", "url", "code", "status", "words"), CASES, ids=IDS)
def test_a_replica_sees_no_request(
    ie: type[BluTVIE],
    url: str,
    code: str,
    status: int,
    words: tuple[str, ...],
    settings: Settings,
    replicas: ReplicaSite,
) -> None:
    pointed = ie.pointed_at(replicas.base_url)
    at_replica = replicas.base_url + "/" + url.split("://", 1)[1]
    with pytest.raises(errors.SiteError) as caught:
        Engine(settings, [pointed]).resolve(at_replica)
    assert caught.value.code == code
    assert replicas.requests == []


def test_each_condition_has_its_own_code() -> None:
    codes = {ie.error.code for ie in (BluTVIE, MxTakatakIE, GaanaIE)}
    assert codes == {"site.drm", "site.closed", "site.subscription"}
    assert errors.SiteDrm.code != errors.ContentDrm.code


def test_other_sites_links_are_not_taken() -> None:
    for url in (
        "https://www.youtube.com/watch?v=OLCJYT5y8Bo",
        "https://notgaana.com/song/x",
        "https://blutv.com.example/x",
        "https://mojapp.in/@someone/video/2791694826",
    ):
        assert not any(ie.suitable(url) for ie in (BluTVIE, MxTakatakIE, GaanaIE)), url


# --- the faces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("ie", "url", "code", "status", "words"), CASES, ids=IDS)
async def test_native_api_answers_the_code_and_status(
    ie: type[BluTVIE],
    url: str,
    code: str,
    status: int,
    words: tuple[str, ...],
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/api/v1/resolve", json={"url": url})
    assert r.status_code == status
    error = r.json()["error"]
    assert error["code"] == code
    assert all(w in error["message"] for w in words)
    assert error["context"]["service"] == ie.service


@pytest.mark.parametrize(
    ("url", "cobalt", "service"),
    [
        (CASES[0][1], "error.api.content.video.unavailable", "blutv"),
        (CASES[1][1], "error.api.content.video.unavailable", "mxtakatak"),
        (CASES[3][1], "error.api.content.video.private", "gaana"),
    ],
)
async def test_cobalt_api_answers_its_nearest_code_with_the_service(
    url: str, cobalt: str, service: str, client: httpx.AsyncClient
) -> None:
    r = await client.post(
        "/",
        content=json.dumps({"url": url}),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    expected = {"code": cobalt, "context": {"service": service}}
    assert r.json() == {"status": "error", "error": expected}


def mediadl(*args: str) -> subprocess.CompletedProcess[str]:
    return run_mediadl(*args)


@pytest.mark.parametrize("command", ["get", "info"])
def test_cli_prints_code_and_message(command: str) -> None:
    done = mediadl(command, CASES[0][1])
    assert done.returncode == 1
    assert "site.drm" in done.stderr
    assert "BluTV is now HBO Max" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_cli_json_carries_the_code() -> None:
    done = mediadl("info", CASES[3][1], "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "site.subscription"
