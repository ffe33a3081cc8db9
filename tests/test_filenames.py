"""File names from titles strangers write: safe, capped, every script kept."""

from __future__ import annotations

import re

import pytest

from mediadl.engine.filenames import (
    MAX_NAME_BYTES,
    NameTemplate,
    TemplateError,
    render_name,
    safe_name,
)

HOSTILE = "Çılgın Şarkı / ../ Песня 歌 🎵 \u202etxt.exe\u202c \x00\x1b[31m"


def test_letters_of_every_script_survive() -> None:
    name = safe_name("Çılgın Şarkı Песня 歌 🎵", "mp4")
    assert name == "Çılgın Şarkı Песня 歌 🎵.mp4"


@pytest.mark.parametrize(
    "title",
    [HOSTILE, "../../etc/passwd", "..", ".", "/", "a\\b", "\u202e", "con", "a\nb\tc", "...hidden"],
)
def test_names_never_form_a_path_or_hide(title: str) -> None:
    name = safe_name(title, "mp4")
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".")
    assert name not in (".", "..")
    assert all(ord(c) >= 32 for c in name)
    assert "\u202e" not in name and "\u202c" not in name
    assert name.endswith(".mp4")
    assert name.lower() != "con.mp4"


def test_length_is_capped_in_bytes_without_splitting_a_letter() -> None:
    name = safe_name("歌" * 500, "webm")
    assert len(name.encode()) <= MAX_NAME_BYTES
    name.encode().decode("utf-8")
    assert name.endswith(".webm")


def test_empty_title_falls_back_to_id() -> None:
    assert safe_name("  \u202e ", "mp3", fallback="abc123") == "abc123.mp3"


def test_template_fields_cannot_add_path_components() -> None:
    name = render_name(
        "{uploader} - {title} [{id}]", {"title": "../x", "uploader": "a/b", "id": "../../id"}, "mp4"
    )
    assert "/" not in name
    assert name == "a_b - .._x [.._.._id].mp4"


def test_unknown_template_field_is_empty() -> None:
    assert render_name("{title}{nope}", {"title": "T"}, "mp4") == "T.mp4"


@pytest.mark.parametrize(
    ("template", "fields", "name"),
    [
        ("{title} ({quality})", {"title": "T", "quality": "720p"}, "T (720p).mp4"),
        ("{title} ({quality})", {"title": "T", "quality": ""}, "T.mp4"),
        ("{title} - {uploader} ({quality}, {site})", {"title": "T", "site": "s"}, "T (s).mp4"),
        (
            "{title} - {uploader} ({quality}, {site})",
            {"title": "T", "uploader": "U", "quality": "1080p", "site": "s"},
            "T - U (1080p, s).mp4",
        ),
        ("{title} [{id}]", {"title": "T (live)"}, "T (live).mp4"),
        ("Song () {title}", {"title": "T"}, "Song () T.mp4"),
    ],
)
def test_what_framed_an_empty_field_goes(
    template: str, fields: dict[str, object], name: str
) -> None:
    assert render_name(template, fields, "mp4") == name


FIELDS: dict[str, object] = {
    "title": "Title",
    "id": "abc",
    "uploader": "",
    "site": "Site",
    "height": "",
    "ext": "mp4",
    "date": "2024-01-31",
    "index": 3,
}


@pytest.mark.parametrize(
    ("template", "folders", "name"),
    [
        ("{uploader} - {title}", [], "Title.mp4"),
        ("{title} - {uploader} - {id}", [], "Title - abc.mp4"),
        ("{title}_{height}p", [], "Title.mp4"),
        ("[{id}] {title} [{height}]", [], "[abc] Title.mp4"),
        ("{title}.mp4", [], "Title.mp4"),
        ("{title}.{ext}", [], "Title.mp4"),
        ("{index:03d} {title} {date}", [], "003 Title 2024-01-31.mp4"),
        ("{uploader}/{site}/{title}", ["Site"], "Title.mp4"),
        ("{site}/{date}/{title}", ["Site", "2024-01-31"], "Title.mp4"),
        ("{{{id}}} {title}", [], "{abc} Title.mp4"),
    ],
)
def test_templates_render_clean_names(template: str, folders: list[str], name: str) -> None:
    assert NameTemplate.parse(template).render(FIELDS, "mp4") == (folders, name)


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{title", "unbalanced brace"),
        ("{title}}", "unbalanced brace"),
        ("{nope} {title} {zip}", "{nope}, {zip}"),
        ("../{title}", "may not leave"),
        ("a/../../{title}", "may not leave"),
        ("/etc/{title}", "relative"),
        ("{title!r}", "conversions"),
        ("{index:q}", "format"),
        ("  ", "empty"),
    ],
)
def test_bad_templates_are_named(template: str, says: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(says)):
        NameTemplate.parse(template)


def test_values_never_add_folders_or_climb() -> None:
    fields = {**FIELDS, "uploader": "../..", "title": "a/b", "site": "/etc"}
    folders, name = NameTemplate.parse("{uploader}/{site}/{title}").render(fields, "mp4")
    assert all("/" not in part and part not in ("..", ".") for part in [*folders, name])
    assert name == "a_b.mp4"
