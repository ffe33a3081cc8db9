"""Every named site: a named extractor takes its sample link, or mediadl answers its own code."""

from __future__ import annotations

import pytest

from mediadl import errors, sites
from mediadl.engine import Engine, extractor_for
from mediadl.settings import Settings
from mediadl.sites.catalog import CATALOG, LIMITS, Site

CATCH_ALL = {"Generic", "UnsupportedURL"}


def test_the_page_names_45_sites_once_each() -> None:
    assert len(CATALOG) == 45
    assert len({s.title for s in CATALOG}) == 45
    assert (CATALOG[0].title, CATALOG[12].title, CATALOG[-1].title) == (
        "YouTube",
        "ShareChat",
        "9GAG",
    )


@pytest.mark.parametrize("entry", CATALOG, ids=[s.title for s in CATALOG])
def test_each_entry_says_why_when_it_is_not_plainly_readable(entry: Site) -> None:
    codes = {cls.code for cls in errors.error_classes()}
    assert entry.sample.startswith("https://") and "…" not in entry.sample
    assert entry.shape.startswith("https://")
    if entry.status == "readable":
        assert (entry.limit, entry.error) == (None, None)
    elif entry.status == "limited":
        assert entry.limit in LIMITS and entry.error is None
    else:
        assert entry.error in codes and entry.error.startswith("site.")
    body = entry.to_dict()
    assert ("error" in body) != ("extractor" in body)


@pytest.mark.parametrize("entry", CATALOG, ids=[s.title for s in CATALOG])
def test_the_sample_is_taken_by_the_named_extractor(entry: Site, settings: Settings) -> None:
    """Rows read by mediadl's own extractors pass once those extractors are registered."""
    found = extractor_for(entry.sample, sites.extractors(), cache_dir=settings.data_dir)
    assert found is not None
    assert found.ie_key() not in CATCH_ALL, f"{entry.title}: only yt-dlp's generic extractor"
    assert entry.extractor in (found.ie_key(), found.IE_NAME)


@pytest.mark.parametrize(
    "entry", [s for s in CATALOG if s.status == "unavailable"], ids=lambda s: s.title
)
def test_an_unavailable_site_answers_its_code_without_a_request(
    entry: Site, settings: Settings, no_network: list[str]
) -> None:
    with pytest.raises(errors.SiteError) as caught:
        Engine(settings, sites.extractors()).resolve(entry.sample)
    assert caught.value.code == entry.error
    assert no_network == []
