"""Fallback fetcher: yt-dlp's own downloaders, for every protocol we don't handle ourselves."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from yt_dlp.utils import DownloadCancelled

from mediadl import errors
from mediadl.engine.bounds import check_downloader
from mediadl.engine.fetch.base import FetchProgress
from mediadl.engine.ytdl import close_responses, map_ytdl_error, new_ydl
from mediadl.models import CancelToken, Format
from mediadl.settings import Settings

__all__ = ["YtdlpFetcher"]


class YtdlpFetcher:
    """Runs the yt-dlp downloader that fits the format, with our progress and cancel."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def fetch(
        self,
        fmt: Format,
        dest: Path,
        *,
        progress: FetchProgress | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        info: dict[str, Any] = {"id": "media", "title": "media", **dict(fmt.raw)}
        info.setdefault("url", fmt.url)
        info.setdefault("protocol", fmt.protocol)
        info.setdefault("ext", fmt.ext)
        info["http_headers"] = dict(fmt.http_headers)
        info.pop("cookies", None)  # they come as records, in the jar (``cookies=`` below)

        def hook(status: dict[str, Any]) -> None:
            if cancel is not None and cancel.cancelled:
                raise DownloadCancelled()
            if progress is None or status.get("status") != "downloading":
                return
            total = status.get("total_bytes")
            size = total or status.get("total_bytes_estimate")
            done = int(status.get("downloaded_bytes") or 0)
            progress(done, int(size) if size else None, not total)

        try:
            with new_ydl(
                self.settings, purpose="download", cookies=fmt.cookies, nopart=False, test=False
            ) as ydl:
                from yt_dlp.downloader import get_suitable_downloader  # 50 ms: only when used

                downloader_class = get_suitable_downloader(info, ydl.params)
                check_downloader(downloader_class, self.settings)
                downloader = downloader_class(ydl, ydl.params)
                downloader.add_progress_hook(hook)
                with _closing_answers(ydl):
                    ok = downloader.download(str(dest), info)
        except errors.MediadlError:
            _discard(dest)
            raise
        except Exception as exc:
            close_responses(exc)
            _discard(dest)
            if cancel is not None and cancel.cancelled:
                raise errors.Cancelled() from exc
            raise _as_fetch_error(map_ytdl_error(exc, fmt.url), fmt) from exc
        if not ok or not dest.exists():
            _discard(dest)
            if cancel is not None and cancel.cancelled:
                raise errors.Cancelled()
            raise errors.FetchFailed(format_id=fmt.id, host=_host(fmt.url))


@contextlib.contextmanager
def _closing_answers(ydl: Any) -> Iterator[None]:
    """Close every HTTP answer the download opened, however it ended: one a progress hook stopped
    mid-read (a cancel, a size bound) is otherwise left to the garbage collector, socket and all."""
    opened: list[Any] = []
    urlopen = ydl.urlopen

    def tracked(request: Any) -> Any:
        answer = urlopen(request)
        opened.append(answer)
        return answer

    ydl.urlopen = tracked
    try:
        yield
    finally:
        ydl.urlopen = urlopen
        for answer in opened:
            with contextlib.suppress(Exception):
                answer.close()


def _as_fetch_error(err: errors.MediadlError, fmt: Format) -> errors.MediadlError:
    """Errors while fetching bytes are fetch errors, whatever yt-dlp called them."""
    if isinstance(err, (errors.FetchError, errors.Cancelled)):
        err.context.setdefault("format_id", fmt.id)
        return err
    status = err.context.get("status")
    if status in (403, 410):
        return errors.FetchForbidden(format_id=fmt.id, host=_host(fmt.url), status=status)
    return errors.FetchFailed(format_id=fmt.id, host=_host(fmt.url), status=status)


def _host(url: str) -> str | None:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname


def _discard(dest: Path) -> None:
    for path in (dest, dest.with_name(dest.name + ".part"), dest.with_name(dest.name + ".ytdl")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
