"""The check's own rules: a deadline per site, the rewrite to a replica, the offline probe."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from mediadl.settings import Settings
from mediadl.sites.catalog import by_title
from mediadl.sites.check import Offline, check, reachable, replica_url


@pytest.fixture
def silent() -> Iterator[str]:
    """A server on the fixture address that takes connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.2", 0))
        server.listen(16)
        yield f"http://127.0.0.2:{server.getsockname()[1]}"


def test_a_site_past_its_deadline_fails_with_fetch_timeout(silent: str, settings: Settings) -> None:
    patient = Settings.model_validate({**settings.model_dump(), "read_timeout": 30.0})
    chosen = (by_title("YouTube"), by_title("Vimeo"), by_title("BluTV"))
    outcomes = {o.site.title: o for o in check(chosen, patient, base=silent, deadline=5.0)}
    assert (outcomes["YouTube"].ok, outcomes["YouTube"].code) == (False, "fetch.timeout")
    assert (outcomes["Vimeo"].ok, outcomes["Vimeo"].code) == (False, "fetch.timeout")
    assert (outcomes["BluTV"].ok, outcomes["BluTV"].code) == (True, "site.drm")


def test_samples_are_rewritten_host_first() -> None:
    assert (
        replica_url("https://www.youtube.com/watch?v=OLCJYT5y8Bo", "http://127.0.0.2:81/")
        == "http://127.0.0.2:81/www.youtube.com/watch?v=OLCJYT5y8Bo"
    )
    assert replica_url("https://9gag.com", "http://b") == "http://b/9gag.com/"


def test_one_host_answering_is_enough(silent: str) -> None:
    reachable(["http://127.0.0.3:9/a", f"{silent}/b"])  # no Offline raised


def test_no_host_answering_is_offline() -> None:
    with pytest.raises(Offline) as caught:
        reachable(["http://127.0.0.3:9/a", "http://127.0.0.3:7/b"])
    assert set(caught.value.failures) == {"127.0.0.3:9", "127.0.0.3:7"}
    assert str(caught.value).startswith("no internet: couldn't reach 127.0.0.3:9")
