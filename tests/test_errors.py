"""The error tree: stable codes, statuses, messages a person can act on."""

from __future__ import annotations

import re
from pathlib import Path

from mediadl import errors

CODE = re.compile(r"^[a-z]+(\.[a-z_]+)*$")


def test_every_error_has_a_namespaced_code_status_and_message() -> None:
    for cls in errors.error_classes():
        err = cls()
        assert CODE.match(err.code), cls
        assert 400 <= err.status < 600, cls
        assert err.message.endswith("."), cls
        assert err.to_dict()["code"] == err.code


def test_leaf_codes_are_unique() -> None:
    leaves = [c for c in errors.error_classes() if not c.__subclasses__()]
    codes = [c.code for c in leaves]
    assert len(codes) == len(set(codes))


def test_issue_codes_exist() -> None:
    codes = {c.code for c in errors.error_classes()}
    assert {
        "link.invalid",
        "link.unsupported",
        "content.unavailable",
        "content.live",
        "fetch.failed",
        "fetch.timeout",
        "format.unavailable",
    } <= codes


def test_context_is_kept_without_nones() -> None:
    err = errors.FetchFailed(format_id="hls-720", status=None)
    assert err.to_dict() == {
        "code": "fetch.failed",
        "message": err.message,
        "context": {"format_id": "hls-720"},
    }


def test_every_code_is_in_the_api_docs() -> None:
    """docs/api.md's table lists every code a person can be shown, so none is a surprise."""
    doc = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    missing = sorted(
        {c.code for c in errors.error_classes()} - set(re.findall(r"`([a-z_.]+)`", doc))
    )
    assert missing == []
