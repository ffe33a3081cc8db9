"""Why these sites have extractors of their own: what yt-dlp's generic extractor makes of the same
replica pages. ShareChat's full page it reads well (JSON-LD); the fallbacks, the picture post and
the other sites it misses or reads only in part."""

from __future__ import annotations

import pytest

from mediadl import errors
from mediadl.engine import Engine
from mediadl.settings import Settings
from mediadl.sites import extractors
from mediadl_fixtures.replicas import ReplicaSite
from support.sites import replica_engine

MISSED = [
    ("sharechat.com", "/video/StateOnly"),  # the media only in the page state
    ("mashable.com", "/video/why-life-on-venus-is-better-than-mars"),  # the 2022 data object
    ("www.kwai.com", "/video/5221181437484916837"),  # Kwai state not in a Nuxt payload
    ("www.kuaishou.com", "/short-video/3x43cyvcyph57i4"),  # the Apollo cache behind a cookie
]


@pytest.mark.parametrize(("host", "path"), MISSED)
def test_generic_finds_nothing_where_the_site_extractor_finds_the_video(
    host: str, path: str, settings: Settings, replicas: ReplicaSite
) -> None:
    url = replicas.url(host, path)
    with pytest.raises(errors.ContentNoMedia):
        Engine(settings).resolve(url)
    assert replica_engine(settings, replicas, *extractors()).resolve(url).formats


def test_generic_reads_a_kwai_page_without_its_author_or_duration(
    settings: Settings, replicas: ReplicaSite
) -> None:
    url = replicas.url("www.kwai.com", "/video/5199555880897549098")
    generic = Engine(settings).resolve(url)
    own = replica_engine(settings, replicas, *extractors()).resolve(url)
    assert (generic.uploader, generic.duration) == (None, None)
    assert (own.uploader, own.duration) != (None, None)


def test_generic_does_not_say_a_sharechat_picture_is_a_picture(
    settings: Settings, replicas: ReplicaSite
) -> None:
    url = replicas.url("sharechat.com", "/post/PicPost")
    messages = []
    for engine in (Engine(settings), replica_engine(settings, replicas, *extractors())):
        with pytest.raises(errors.ContentNoMedia) as caught:
            engine.resolve(url)
        messages.append("picture" in caught.value.message)
    assert messages == [False, True]
