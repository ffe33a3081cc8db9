"""Safe file names from titles that strangers write, and the name templates people write.

Letters of every script survive; path separators, control and bidi/format characters, characters
Windows forbids and names made only of dots do not; the name is capped in UTF-8 bytes.

A :class:`NameTemplate` (``--name``) is checked once, before any link is read: braces balance,
every field is one of :data:`TEMPLATE_FIELDS`. Its ``/`` make sub-folders, always inside the
output folder (``..`` and absolute paths are refused; a value can never add a component). An
empty field takes the characters glued to it along (``[{id}]``, ``{height}p``) and separators
left dangling go, so a missing uploader doesn't leave ``- Title.mp4``; a trailing ``.mp4`` or
``.{ext}`` isn't doubled.
"""

from __future__ import annotations

import contextlib
import re
import string
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mediadl.models import MediaInfo

__all__ = [
    "MAX_NAME_BYTES",
    "TEMPLATE_FIELDS",
    "NameTemplate",
    "TemplateError",
    "name_fields",
    "numbered",
    "render_name",
    "safe_name",
]

TEMPLATE_FIELDS: dict[str, object] = {
    "title": "Title",
    "id": "abc123",
    "uploader": "Someone",
    "site": "Site",
    "height": 720,
    "quality": "720p",
    "ext": "mp4",
    "date": "2024-01-31",
    "index": 1,
}
"""The fields a template may use, each with a sample value its format spec is tried on."""

_MEDIA_EXTS = frozenset(
    [
        "mp4",
        "webm",
        "mkv",
        "mov",
        "m4a",
        "m4v",
        "mp3",
        "opus",
        "ogg",
        "oga",
        "aac",
        "flac",
        "wav",
        "ts",
        "flv",
        "avi",
    ]
)
_SEPARATORS = " -_.,;:|~+"
_DANGLING = re.compile(r"\s*([-_,;:|~+])(?:\s*[-_,;:|~+])+\s*")

MAX_NAME_BYTES = 200
"""Cap for the whole name, extension included (most filesystems allow 255 bytes)."""

_FORBIDDEN = dict.fromkeys(map(ord, '/\\<>:"|?*'), "_")
_SPACES = re.compile(r"\s+")
_UNDERSCORES = re.compile(r"_{2,}")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)


def safe_name(title: str, ext: str, *, fallback: str = "video") -> str:
    """``title`` + ``.ext`` as one safe path component, at most ``MAX_NAME_BYTES`` bytes."""
    suffix = "." + _clean(ext).strip(".")[:10] if ext else ""
    stem = _clean(title)
    if not stem.strip("._ "):
        stem = _clean(fallback) or "video"
    budget = MAX_NAME_BYTES - len(suffix.encode())
    stem = _cut(stem, budget).rstrip(" .")
    if _WINDOWS_RESERVED.match(stem):
        stem = f"_{stem}"
    return f"{stem}{suffix}"


def render_name(template: str | None, fields: Mapping[str, object], ext: str) -> str:
    """Fill ``template`` (``{title}``, ``{id}``, …) with ``fields`` and make it safe.

    One file name, whatever the template holds: unknown fields are empty, a malformed template
    names the file after its title, and neither a value nor a ``/`` adds a path component.
    """
    text = str(fields.get("title") or "")
    if template:
        with contextlib.suppress(ValueError):  # malformed: the title alone
            text = _fill(template, fields)
    return safe_name(_without_ext(text, ext), ext, fallback=str(fields.get("id") or "video"))


class TemplateError(ValueError):
    """A ``--name`` template that can't work; the message says why."""


@dataclass(frozen=True, slots=True)
class NameTemplate:
    """A checked name template: sub-folder templates, then the file name's."""

    folders: tuple[str, ...]
    name: str

    @classmethod
    def parse(cls, text: str) -> NameTemplate:
        """Check ``text`` at once; :class:`TemplateError` says what is wrong."""
        if not text.strip():
            raise TemplateError("The name template is empty.")
        if text.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", text):
            raise TemplateError("The name template must be relative to the output folder (-o).")
        components = [c for c in re.split(r"[/\\]", text) if c.strip()]
        if any(c.strip() in ("..", ".") for c in components):
            raise TemplateError("The name template may not leave the output folder (..).")
        for component in components:
            _check(component)
        if not components:
            raise TemplateError("The name template is empty.")
        return cls(tuple(components[:-1]), components[-1])

    def render(self, fields: Mapping[str, object], ext: str) -> tuple[list[str], str]:
        """The safe sub-folders (empty ones left out) and the file name, extension added."""
        filled = [_fill(folder, fields) for folder in self.folders]
        folders = [safe_name(f, "") for f in filled if _clean(f).strip("._ ")]
        name = safe_name(
            _without_ext(_fill(self.name, fields), ext),
            ext,
            fallback=str(fields.get("id") or "video"),
        )
        return folders, name


def name_fields(
    info: MediaInfo, *, height: int | None, ext: str, index: int | None = None
) -> dict[str, object]:
    """What a template's fields stand for, for one item (``index``: its place in a playlist)."""
    return {
        "title": info.title,
        "id": info.id,
        "uploader": info.uploader or "",
        "site": info.site,
        "height": height or "",
        "quality": f"{height}p" if height else "",
        "ext": ext,
        "date": _date(info.raw.get("upload_date")),
        "index": index if index is not None else "",
    }


def _date(value: object) -> str:
    """yt-dlp's ``YYYYMMDD`` as ``YYYY-MM-DD``."""
    text = str(value) if value is not None else ""
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if re.fullmatch(r"\d{8}", text) else ""


def _check(component: str) -> None:
    try:
        parsed = list(string.Formatter().parse(component))
    except ValueError as exc:
        raise TemplateError(
            f"The name template has an unbalanced brace: {exc}. Write {{{{ or }}}} for a "
            "brace itself."
        ) from None
    unknown = sorted({f"{{{name}}}" for _, name, _, _ in parsed if name is not None} - _KNOWN)
    if unknown:
        raise TemplateError(
            f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in the name "
            f"template. Use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}."
        )
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion is not None:
            raise TemplateError(f"{{{name}!{conversion}}}: conversions aren't supported.")
        try:
            format(TEMPLATE_FIELDS[name], spec or "")
        except ValueError:
            raise TemplateError(f"{{{name}:{spec}}}: that format doesn't fit this field.") from None


_KNOWN = {f"{{{name}}}" for name in TEMPLATE_FIELDS}


def _fill(template: str, fields: Mapping[str, object]) -> str:
    """``template`` with its fields filled; an empty one takes the characters glued to it.

    Brackets are not glued characters: those that framed only empty fields go as a whole
    (``{title} ({quality})`` without a quality is ``Title``, ``({quality}, {site})`` ``(site)``).
    """
    pieces: list[str] = []
    empty_before = blank = False
    for literal, name, spec, _conv in string.Formatter().parse(template):
        text = literal
        if empty_before:
            text = _GLUED_AFTER.sub("", text)
        if name is None:  # text alone (the end, or before an escaped brace)
            pieces.append(text)
            empty_before = False
            continue
        value = fields.get(name)
        rendered = _value(value, spec)
        if not rendered:
            text = _GLUED_BEFORE.sub("", text)
        pieces += [text, rendered]
        empty_before = not rendered
        blank = blank or empty_before
    joined = "".join(pieces)
    if blank:
        joined = _tidy(joined)
    joined = _DANGLING.sub(lambda m: f" {m.group(1)} ", joined)
    return _SPACES.sub(" ", joined).strip(_SEPARATORS)


_GLUED_BEFORE = re.compile(r"[^\s(\[]+$")
_GLUED_AFTER = re.compile(r"^[^\s)\]]+")
_INNER_SPACE = re.compile(r"(?<=[(\[])\s+|\s+(?=[)\]])")
_EMPTY_BRACKETS = re.compile(r"\s*(\(\s*\)|\[\s*\])")
_DANGLING_DASH = re.compile(r"\s+[-–—]\s*(?=\(|\[|$)")


def _tidy(text: str) -> str:
    """Brackets, and a dash before them, that only framed empty fields, gone."""
    for pattern, replacement in (
        (_INNER_SPACE, ""),
        (_EMPTY_BRACKETS, ""),
        (_DANGLING_DASH, " "),
    ):
        text = pattern.sub(replacement, text)
    return text


def _value(value: object, spec: str | None) -> str:
    if value is None or value == "":
        return ""
    try:
        return format(value, spec or "")
    except (TypeError, ValueError):
        return str(value)


def _without_ext(text: str, ext: str) -> str:
    """``text`` without a trailing ``.mp4`` (or any media extension): the real one is added."""
    stem, dot, tail = text.rpartition(".")
    if dot and stem and (tail.lower() == ext.lower() or tail.lower() in _MEDIA_EXTS):
        return stem
    return text


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            kept.append(" " if category in ("Cc", "Zl", "Zp") else "")
        else:
            kept.append(char)
    text = "".join(kept).translate(_FORBIDDEN)
    text = _UNDERSCORES.sub("_", _SPACES.sub(" ", text)).strip(" ")
    return text.lstrip(". ")


def _cut(text: str, budget: int) -> str:
    data = text.encode()
    if len(data) <= budget:
        return text
    return data[:budget].decode("utf-8", "ignore")


def numbered(filename: str, most: int = 999) -> Iterator[str]:
    """``filename``, then ``name (2).ext``, ``name (3).ext`` … up to ``most`` names: the names to
    try, in turn, for a file that must not replace another."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    for n in range(1, most + 1):
        yield filename if n == 1 else f"{stem} ({n}){dot}{ext}"
