"""The fetcher loads on a thread of its own from the first request on, and never beside the
download's own import of it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediadl.engine.preload import FetcherLoad

GATED = """
import preload_gate
preload_gate.entered.set()
preload_gate.release.wait(60)
done = True
"""


class Gate:
    """What a gated module's import waits on: shared with the test through ``sys.modules``."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[tuple[str, str, Gate]]:
    """A module whose import waits for the test, and one whose import fails."""
    (tmp_path / "gated_fetcher.py").write_text(GATED)
    (tmp_path / "broken_fetcher.py").write_text("raise ImportError('no such library: zzz')\n")
    gate = Gate()
    sys.modules["preload_gate"] = gate  # type: ignore[assignment]
    sys.path.insert(0, str(tmp_path))
    try:
        yield "gated_fetcher", "broken_fetcher", gate
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("preload_gate", "gated_fetcher", "broken_fetcher"):
            sys.modules.pop(name, None)


def test_nothing_is_loaded_before_the_first_request(modules: tuple[str, str, Gate]) -> None:
    gated, _, gate = modules
    requesting = threading.Event()
    load = FetcherLoad(gated, requesting)
    load.settle()  # the download comes first: it imports the fetcher itself
    requesting.set()
    load.thread.join(60)
    assert not load.thread.is_alive()
    assert load.state == "settled"
    assert gated not in sys.modules
    assert not gate.entered.is_set()


def test_a_load_under_way_is_waited_for(modules: tuple[str, str, Gate]) -> None:
    gated, _, gate = modules
    requesting = threading.Event()
    load = FetcherLoad(gated, requesting)
    assert gated not in sys.modules
    requesting.set()
    assert gate.entered.wait(60)  # loading on its own thread, the request's thread is free
    assert load.state == "loading"
    settled = threading.Event()
    waiter = threading.Thread(target=lambda: (load.settle(), settled.set()))
    waiter.start()
    assert not settled.wait(0.5), "settle() returned while the import was still running"
    gate.release.set()
    waiter.join(60)
    assert settled.is_set()
    assert sys.modules[gated].done is True  # type: ignore[attr-defined]
    assert load.state == "done"


def test_a_failed_load_leaves_the_error_to_the_downloads_own_import(
    modules: tuple[str, str, Gate],
) -> None:
    _, broken, _ = modules
    requesting = threading.Event()
    requesting.set()
    load = FetcherLoad(broken, requesting)
    load.thread.join(60)
    load.settle()
    assert load.state == "done"
    with pytest.raises(ImportError, match="no such library: zzz"):
        __import__(broken)
