"""``bench/results.md`` keeps every round's figures: a benchmark rewrites its own section only."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, text: str) -> None:
    """Replace this benchmark's section of ``path`` (from its heading to the next ``## ``).

    ``text`` starts with the section's heading line; without that heading in ``path`` yet, the
    section is added at the end. Whatever else the file holds stays as it is.
    """
    old = path.read_text() if path.exists() else ""
    head = text.split("\n", 1)[0]
    if head in old:
        before, rest = old.split(head, 1)
        after = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        new = before + text + ("\n" + after if after else "")
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    path.write_text(new)
