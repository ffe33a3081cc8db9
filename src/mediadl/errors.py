"""One error tree for every face of mediadl.

Each error carries a stable, namespaced ``code``, the HTTP ``status`` the service answers with and a
``message`` a person can act on. Expected errors (the person's input, the site's answer) are shown
as they are, never with a traceback; anything else is a bug and is logged with one.

    MediadlError
    ├── LinkError                     the URL itself
    │   ├── LinkInvalid               link.invalid            400
    │   ├── LinkUnsupported           link.unsupported        400
    │   └── LinkForbidden             link.forbidden          403  (egress guard)
    ├── ContentError                  what the link points at
    │   ├── ContentUnavailable        content.unavailable     404
    │   ├── ContentInvalid            content.invalid         502  (data we can't read)
    │   ├── ContentUnfetchable        content.unfetchable     502  (parts at non-web links)
    │   ├── ContentNoMedia            content.no_media        422
    │   ├── ContentLive               content.live            422
    │   ├── ContentPrivate            content.private         403
    │   ├── ContentRegion             content.region          451
    │   ├── ContentDrm                content.drm             422
    │   ├── ContentTooLong            content.too_long        422
    │   ├── ContentTooLarge           content.too_large       413
    │   └── ContentTooManyItems       content.too_many_items  422
    ├── SiteError                     the whole site, known before any request
    │   ├── SiteClosed                site.closed             410  (shut down or merged away)
    │   ├── SiteDrm                   site.drm                422  (every video DRM-protected)
    │   └── SiteSubscription          site.subscription       403  (streams to subscribers only)
    ├── FormatUnavailable             format.unavailable      422
    ├── FetchError                    getting the bytes
    │   ├── FetchFailed               fetch.failed            502
    │   ├── FetchTimeout              fetch.timeout           504
    │   ├── FetchRateLimited          fetch.rate              429
    │   ├── FetchForbidden            fetch.forbidden         502  (upstream 403/410)
    │   └── FetchIncomplete           fetch.incomplete        502
    ├── ProxyError                    the operator's proxy (never named with its credentials)
    │   ├── ProxyFailed               proxy.failed            502  (unreachable, refused)
    │   ├── ProxyAuth                 proxy.auth              502  (407, SOCKS login refused)
    │   └── ProxyForbidden            proxy.forbidden         500  (a local proxy not allowed)
    ├── LimitError                    the server's own limits on one client
    │   ├── RateLimited               rate.limited            429  (+ Retry-After)
    │   ├── TooManyStreams            rate.streams            429  (downloads open at once)
    │   ├── TooManyEventStreams       rate.events             429  (progress streams open)
    │   └── ServerBusy                server.busy             503  (no slot, or no ffmpeg place)
    ├── JobError                      jobs kept on the server
    │   ├── JobsDisabled              jobs.disabled           404  (MEDIADL_JOBS is off)
    │   ├── JobNotFound               jobs.not_found          404  (or another key's)
    │   ├── JobConflict               jobs.conflict           409  (not in a state for that)
    │   └── JobsQuota                 jobs.quota              507  (downloads folder full)
    ├── ConfigError                   config.invalid          500  (the operator's setup)
    │   ├── ConfigCookies             config.cookies          500  (a cookies file or browser)
    │   └── ConfigTemplate            config.template         400  (a --name template)
    ├── DownloadBusy                  download.busy           409  (its work folder is in use)
    ├── ProcessingFailed              processing.failed       500  (ffmpeg)
    ├── OutputError                   output.failed           500  (where files are saved)
    │   ├── OutputNotWritable         output.not_writable     500  (read-only, no permission)
    │   └── OutputDiskFull            output.disk_full        507  (no space, quota, size cap)
    ├── Cancelled                     cancelled               499
    └── InternalError                 internal                500
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar

__all__ = [
    "Cancelled",
    "ConfigCookies",
    "ConfigError",
    "ConfigTemplate",
    "ContentDrm",
    "ContentError",
    "ContentInvalid",
    "ContentLive",
    "ContentNoMedia",
    "ContentPrivate",
    "ContentRegion",
    "ContentTooLarge",
    "ContentTooLong",
    "ContentTooManyItems",
    "ContentUnavailable",
    "ContentUnfetchable",
    "DownloadBusy",
    "FetchError",
    "FetchFailed",
    "FetchForbidden",
    "FetchIncomplete",
    "FetchRateLimited",
    "FetchTimeout",
    "FormatUnavailable",
    "InternalError",
    "JobConflict",
    "JobError",
    "JobNotFound",
    "JobsDisabled",
    "JobsQuota",
    "LimitError",
    "LinkError",
    "LinkForbidden",
    "LinkInvalid",
    "LinkUnsupported",
    "MediadlError",
    "OutputDiskFull",
    "OutputError",
    "OutputNotWritable",
    "ProcessingFailed",
    "ProxyAuth",
    "ProxyError",
    "ProxyFailed",
    "ProxyForbidden",
    "RateLimited",
    "ServerBusy",
    "SiteClosed",
    "SiteDrm",
    "SiteError",
    "SiteSubscription",
    "TooManyEventStreams",
    "TooManyStreams",
    "error_classes",
    "output_error",
]


class MediadlError(Exception):
    """Base of every error mediadl shows to a person."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong on our side. Please try again."

    def __init__(self, message: str | None = None, **context: Any) -> None:
        self.message = message or self.default_message
        self.context = context
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of an error: ``{"code", "message"}`` plus safe context."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.context:
            body["context"] = {k: v for k, v in self.context.items() if v is not None}
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class LinkError(MediadlError):
    code = "link.invalid"
    status = 400


class LinkInvalid(LinkError):
    code = "link.invalid"
    default_message = "That doesn't look like a link. Copy the video's share URL and paste it here."


class LinkUnsupported(LinkError):
    code = "link.unsupported"
    default_message = "This site isn't supported, or this link doesn't point at a video."


class LinkForbidden(LinkError):
    code = "link.forbidden"
    status = 403
    default_message = "This link points at an address this server is not allowed to reach."


class ContentError(MediadlError):
    code = "content.unavailable"
    status = 404


class ContentUnavailable(ContentError):
    code = "content.unavailable"
    default_message = (
        "The video isn't available: it may have been deleted, or the link is wrong. "
        "Check the link in your browser."
    )


class ContentInvalid(ContentError):
    code = "content.invalid"
    status = 502
    default_message = "The site sent information about this video that we couldn't read."


class ContentUnfetchable(ContentError):
    code = "content.unfetchable"
    status = 502
    default_message = (
        "The site's stream lists parts at addresses that aren't web links (file:, ftp:, data: "
        "and the like), which are never fetched. Try another link."
    )


class ContentNoMedia(ContentError):
    code = "content.no_media"
    status = 422
    default_message = "The page was found, but there is no video or audio on it to download."


class ContentLive(ContentError):
    code = "content.live"
    status = 422
    default_message = "This is a live stream. Try again once the broadcast has ended."


class ContentPrivate(ContentError):
    code = "content.private"
    status = 403
    default_message = "This video is private or needs a login, so it can't be downloaded."


class ContentRegion(ContentError):
    code = "content.region"
    status = 451
    default_message = "This video isn't available in the server's region."


class ContentDrm(ContentError):
    code = "content.drm"
    status = 422
    default_message = "This video is protected by DRM and can't be downloaded."


class ContentTooLong(ContentError):
    code = "content.too_long"
    status = 422
    default_message = "This video is longer than this server allows."


class ContentTooLarge(ContentError):
    code = "content.too_large"
    status = 413
    default_message = "This file is larger than this server allows."


class ContentTooManyItems(ContentError):
    code = "content.too_many_items"
    status = 422
    default_message = "This playlist has more items than this server allows at once."


class SiteError(MediadlError):
    """A named site whose links can't be downloaded at all, answered from the link alone.

    Raised with ``site`` (its name, for the message) and ``service`` (a lower-case id for the
    cobalt face) in the context; the message says what happened to the site and what to do.
    """

    code = "site.closed"
    status = 410


class SiteClosed(SiteError):
    code = "site.closed"
    default_message = "This site has closed, so its links no longer lead to a video."


class SiteDrm(SiteError):
    code = "site.drm"
    status = 422
    default_message = "Every video on this site is protected (DRM), so it can't be downloaded."


class SiteSubscription(SiteError):
    code = "site.subscription"
    status = 403
    default_message = (
        "This site streams only to its paying subscribers, encrypted, so it can't be downloaded."
    )


class FormatUnavailable(MediadlError):
    code = "format.unavailable"
    status = 422
    default_message = "That quality or format isn't available for this video. Pick another one."


class FetchError(MediadlError):
    code = "fetch.failed"
    status = 502


class FetchFailed(FetchError):
    code = "fetch.failed"
    default_message = "The site didn't send the file. Please try again in a moment."


class FetchTimeout(FetchError):
    code = "fetch.timeout"
    status = 504
    default_message = "The site stopped answering while sending the file. Please try again."


class FetchRateLimited(FetchError):
    code = "fetch.rate"
    status = 429
    default_message = "The site is limiting how fast we can ask. Wait a minute and try again."


class FetchForbidden(FetchError):
    code = "fetch.forbidden"
    default_message = "The site refused to send the file. Please try again."


class FetchIncomplete(FetchError):
    code = "fetch.incomplete"
    default_message = "The file arrived incomplete. Please try again."


class ProxyError(MediadlError):
    code = "proxy.failed"
    status = 502


class ProxyFailed(ProxyError):
    code = "proxy.failed"
    default_message = (
        "The proxy this server goes through can't be reached or refused the connection. "
        "Check that it runs and that the proxy setting is right."
    )


class ProxyAuth(ProxyError):
    code = "proxy.auth"
    default_message = (
        "The proxy this server goes through wants a login, or refused the one given. "
        "Put user:password@ in the proxy URL."
    )


class ProxyForbidden(ProxyError):
    code = "proxy.forbidden"
    status = 500
    default_message = (
        "The proxy is on a local or private address, which the egress guard refuses. "
        "Allow its address explicitly (allow_networks, e.g. 10.0.0.5/32) or allow_private."
    )


class LimitError(MediadlError):
    code = "rate.limited"
    status = 429


class RateLimited(LimitError):
    code = "rate.limited"
    default_message = "You're sending requests faster than this server allows. Wait a moment."


class TooManyStreams(LimitError):
    code = "rate.streams"
    default_message = (
        "You have as many downloads running as this server allows. Let one finish first."
    )


class TooManyEventStreams(LimitError):
    code = "rate.events"
    default_message = (
        "You have as many progress streams open as this server allows. Close a tab or wait "
        "for a download to finish."
    )


class ServerBusy(LimitError):
    code = "server.busy"
    status = 503
    default_message = "This server is serving as many downloads as it can. Try again shortly."


class JobError(MediadlError):
    code = "jobs.not_found"
    status = 404


class JobsDisabled(JobError):
    code = "jobs.disabled"
    status = 404
    default_message = (
        "This server doesn't keep downloads. Its operator can turn jobs on (MEDIADL_JOBS=true)."
    )


class JobNotFound(JobError):
    code = "jobs.not_found"
    status = 404
    default_message = "There is no such job. It may have been removed or expired."


class JobConflict(JobError):
    code = "jobs.conflict"
    status = 409
    default_message = "The job can't do that in its present state. Reload it and try again."


class JobsQuota(JobError):
    code = "jobs.quota"
    status = 507
    default_message = (
        "The server's downloads folder is full. Remove finished jobs, or ask its operator to "
        "raise MEDIADL_DOWNLOAD_QUOTA."
    )


class ConfigError(MediadlError):
    """A setting that can't be used as given: the CLI exits with status 2, the server won't
    start. The message names the setting's file, never its content."""

    code = "config.invalid"
    status = 500
    default_message = "A setting of this program can't be used as given. Check its value."


class ConfigCookies(ConfigError):
    code = "config.cookies"
    default_message = (
        "The cookies can't be read. Check the cookies file (Netscape cookies.txt format)."
    )


class ConfigTemplate(ConfigError):
    code = "config.template"
    status = 400
    default_message = "The file name template can't be used. Check its braces and fields."


class DownloadBusy(MediadlError):
    code = "download.busy"
    status = 409
    default_message = (
        "Another mediadl is downloading this file into the same folder. Let it finish, or save "
        "elsewhere with -o."
    )


class ProcessingFailed(MediadlError):
    code = "processing.failed"
    status = 500
    default_message = "We got the file but couldn't convert it. Try another format."


class OutputError(MediadlError):
    """The folder files are saved in (or the work files beside them) refused a write: the
    machine's state, not the link's; the same download succeeds once it is fixed."""

    code = "output.failed"
    status = 500
    default_message = "The file couldn't be saved in that folder. Check the folder and try again."


class OutputNotWritable(OutputError):
    code = "output.not_writable"
    default_message = (
        "That folder can't be written to (read-only, or no permission). Choose another "
        "folder (-o) or change its permissions."
    )


class OutputDiskFull(OutputError):
    code = "output.disk_full"
    status = 507
    default_message = (
        "The disk is full: there isn't room for this file. Free some space or choose a folder "
        "on another disk (-o), then try again."
    )


_OUTPUT_ERRNOS: dict[int, type[OutputError]] = {
    errno.ENOSPC: OutputDiskFull,
    errno.EDQUOT: OutputDiskFull,
    errno.EFBIG: OutputDiskFull,
    errno.EACCES: OutputNotWritable,
    errno.EPERM: OutputNotWritable,
    errno.EROFS: OutputNotWritable,
}


def output_error(exc: OSError, folder: object = None) -> OutputError | None:
    """The ``output.*`` error of an OS error met while saving (``None``: not about saving).

    The message names the folder (the person chose it) but not the work file inside it.
    """
    cls = _OUTPUT_ERRNOS.get(exc.errno or 0)
    if cls is None:
        return None
    message = cls.default_message
    if folder is not None:
        message = f"{message} Folder: {folder}."
    return cls(message, errno=errno.errorcode.get(exc.errno or 0))


class Cancelled(MediadlError):
    code = "cancelled"
    status = 499
    default_message = "The download was cancelled."


class InternalError(MediadlError):
    code = "internal"
    status = 500


def error_classes() -> list[type[MediadlError]]:
    """Every concrete error class, for documentation and the tests that pin codes."""
    seen: list[type[MediadlError]] = []
    stack: list[type[MediadlError]] = [MediadlError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen
