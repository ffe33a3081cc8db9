"""Shared fixtures: the offline fixture site (one per test process) and engine settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from mediadl.engine import Engine, internals
from mediadl.engine.fetch.hostgate import forget_pushback
from mediadl.settings import Settings
from mediadl_fixtures.replicas import ReplicaSite, running_replicas
from mediadl_fixtures.server import FixtureSite
from mediadl_fixtures.threaded import running_site

FIXTURE_HOST = "127.0.0.2"
"""The fixture site's own loopback address; other loopback addresses stay out of reach."""
FIXTURE_NETWORK = f"{FIXTURE_HOST}/32"
"""What the tests' settings let the egress guard reach: the fixture site alone."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``network`` read live sites, which this suite never reaches: they are left
    out of the run (not skipped) unless ``MEDIADL_NETWORK_TESTS=1`` asks for them."""
    if os.environ.get("MEDIADL_NETWORK_TESTS") == "1":
        return
    live = [item for item in items if "network" in item.keywords]
    if live:
        config.hook.pytest_deselected(items=live)
        items[:] = [item for item in items if "network" not in item.keywords]


@pytest.fixture(scope="session")
def site() -> Iterator[FixtureSite]:
    with running_site(FIXTURE_HOST) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_counters(request: pytest.FixtureRequest) -> None:
    """Fault knobs count tries per path; each test starts from zero."""
    if "site" in request.fixturenames:
        request.getfixturevalue("site").reset_counters()


@pytest.fixture(autouse=True)
def _fresh_host_gates() -> Iterator[None]:
    """Pushback one test provoked (a 429 lowers the host's connections for the whole process)
    doesn't slow the next."""
    yield
    forget_pushback()


@pytest.fixture(autouse=True)
def _internals_as_they_were() -> Iterator[None]:
    """A test that disables or breaks a private internal leaves the next one as it was."""
    with internals.isolated():
        yield


@pytest.fixture
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Engine settings for the fixture site; state (caches) apart from the test's own folder."""
    return Settings(
        allow_networks=[FIXTURE_NETWORK],
        data_dir=tmp_path_factory.mktemp("data"),
        read_timeout=5.0,
        connect_timeout=5.0,
        fetch_retries=4,
    )


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return Engine(settings)


@pytest.fixture(scope="session")
def replicas(site: FixtureSite) -> Iterator[ReplicaSite]:
    """The replicas of the named sites mediadl reads itself (paths ``/<host>/…``)."""
    with running_replicas(site.mediaset) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_replica_log(request: pytest.FixtureRequest) -> None:
    if "replicas" in request.fixturenames:
        request.getfixturevalue("replicas").requests.clear()
