"""``--download-archive``: the items already downloaded, in yt-dlp's own file format.

One ``extractor id`` line per item (the extractor's key in lower case, as yt-dlp writes it), so
one archive file serves both tools. An item in it is skipped before its media is fetched; an item
downloaded (or found already on disk) is added at once, so an interrupted playlist goes on where
it stopped.
"""

from __future__ import annotations

from pathlib import Path

from mediadl import errors
from mediadl.models import MediaInfo

__all__ = ["Archive", "archive_key", "key_of"]


def archive_key(extractor: str, item_id: str) -> str:
    return f"{extractor.lower()} {item_id}"


def key_of(info: MediaInfo) -> str:
    return archive_key(info.extractor, info.id)


class Archive:
    """The archive file at ``path`` (created on the first item downloaded)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise errors.ConfigError(
                f"Can't read the download archive {path}: {exc}. Check the path given to "
                "--download-archive."
            ) from None
        self._keys = {line.strip() for line in text.splitlines() if line.strip()}

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        if key in self._keys:
            return
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(key + "\n")
        except OSError as exc:
            raise errors.ConfigError(
                f"Can't add to the download archive {self.path}: {exc.strerror or exc}. The "
                "file was saved; check the path given to --download-archive."
            ) from None
        self._keys.add(key)
