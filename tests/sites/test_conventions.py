"""Every site extractor of mediadl's own follows the same conventions (as streamlink checks its
plugins): declared hosts and path, a name, a module docstring with the site's facts, a replica
and a test module. Sites that can't be downloaded any more (``closed``) answer from the link
alone: they need no replica, and ``test_closed.py`` tests them."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest

from mediadl import sites
from mediadl.sites.base import SiteIE
from mediadl_fixtures import replicas

EXTRACTORS = sites.extractors()
READABLE = tuple(cls for cls in EXTRACTORS if cls.__module__ != "mediadl.sites.closed")
TESTS = Path(__file__).parent


def _site_name(cls: type) -> str:
    return cls.__module__.rpartition(".")[2]


def test_there_are_sites_and_their_names_are_distinct() -> None:
    names = [cls.IE_NAME for cls in EXTRACTORS]
    assert names and len(names) == len(set(names))


def test_sites_that_answer_from_the_link_alone_are_tested() -> None:
    assert len(READABLE) < len(EXTRACTORS)
    assert (TESTS / "test_closed.py").is_file()


@pytest.mark.parametrize("cls", READABLE, ids=lambda cls: cls.IE_NAME)
def test_site_is_declared_documented_replicated_and_tested(cls: type[SiteIE]) -> None:
    assert issubclass(cls, SiteIE)
    assert cls.IE_NAME and cls._HOSTS and cls._PATH
    assert "(?P<id>" in cls._PATH
    assert (sys.modules[cls.__module__].__doc__ or "").strip()
    name = _site_name(cls)
    assert f"{replicas.__name__}.{name}" in {module.__name__ for module in replicas.MODULES}
    assert (TESTS / f"test_{name}.py").is_file()


@pytest.mark.parametrize("cls", EXTRACTORS, ids=lambda cls: cls.IE_NAME)
def test_an_aimed_class_is_one_class_and_pickles(cls: type[SiteIE]) -> None:
    """The server's sandbox pickles extractor classes; an aimed one must come back as itself."""
    aimed = cls.pointed_at("http://127.0.0.2:1/")
    assert aimed is cls.pointed_at("http://127.0.0.2:1")
    assert pickle.loads(pickle.dumps(aimed)) is aimed
