"""Who a request counts as: an API key in the query is found however its name is written, and a
query without one (a tunnel's long token) counts as its address."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl.service.clients import identify
from mediadl.settings import Settings

API_KEY = "0b7c1c62-6a46-4bd8-9f3e-2d1e0a3c5f11"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret="clients-secret-0123456789", api_keys=[API_KEY])


def scope(query: str) -> dict[str, object]:
    return {"client": ("203.0.113.7", 4000), "headers": [], "query_string": query.encode()}


@pytest.mark.parametrize(
    "query",
    [f"key={API_KEY}", f"t=abc.def&key={API_KEY}", f"k%65y={API_KEY}", f"%6B%65%79={API_KEY}"],
)
def test_a_key_in_the_query_counts_as_the_key(settings: Settings, query: str) -> None:
    client = identify(scope(query), settings)
    assert client.keyed
    assert client.name.startswith("key:")


@pytest.mark.parametrize(
    "query",
    ["t=" + "A" * 4000 + ".b-c_d", "t=abc&p=1", "", "key=not-a-key", "KEY=" + API_KEY],
)
def test_no_valid_key_counts_as_the_address(settings: Settings, query: str) -> None:
    client = identify(scope(query), settings)
    assert not client.keyed
    assert client.name == "ip:203.0.113.7"
