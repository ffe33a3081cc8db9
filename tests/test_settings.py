"""Each setting declared once, documented, read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediadl.settings import Settings, render_docs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and field.description.endswith("."), name


def test_docs_are_generated_from_the_declarations() -> None:
    assert DOCS.read_text() == render_docs(), "run: python -m mediadl.settings > docs/settings.md"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIADL_FETCH_CONNECTIONS", "3")
    assert Settings().fetch_connections == 3


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIADL_FETCH_CONNECTIONS", "0")
    with pytest.raises(ValueError, match="fetch_connections"):
        Settings()


def test_rate_limits_are_read_by_the_limits_library_defaults_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The defaults skip the library (it is only imported for another value): they must be
    what it reads, and any other value still goes through it."""
    from limits import parse_many

    for name in ("rate_limit", "rate_limit_media", "rate_limit_keyed"):
        assert parse_many(Settings.model_fields[name].default)
    monkeypatch.setenv("MEDIADL_RATE_LIMIT", "5/fortnight")
    with pytest.raises(ValueError, match="rate_limit"):
        Settings()
    monkeypatch.setenv("MEDIADL_RATE_LIMIT", "5/second")
    assert Settings().rate_limit == "5/second"
