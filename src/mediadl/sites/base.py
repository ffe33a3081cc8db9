"""The base of mediadl's own site extractors: URL patterns declared as hosts and paths.

A site module declares ``_HOSTS`` (a pattern of the hosts it reads) and ``_PATH`` (a pattern of
the path, with an ``id`` group); ``_VALID_URL`` is made of them. Every URL the extractor builds
goes through :meth:`SiteIE._site_url`, and every URL it is given or redirected to is read back
through :meth:`SiteIE._site_parts`, so :meth:`SiteIE.pointed_at` can aim the same code at a
replica of the site (the fixture site serves ``<base>/<host>/<path>``) without the production
class matching anything but the real hosts.
"""

from __future__ import annotations

import copyreg
import re
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from yt_dlp.extractor.common import InfoExtractor

__all__ = ["SiteIE"]


class SiteIE(InfoExtractor):  # type: ignore[misc]
    """An extractor of mediadl's own. Subclasses set ``_HOSTS``, ``_PATH`` and ``IE_NAME``."""

    _HOSTS: ClassVar[str] = ""
    """A pattern of the hosts, e.g. ``(?:www\\.)?sharechat\\.com``."""
    _PATH: ClassVar[str] = ""
    """A pattern of the path from its first ``/``, with a named group ``id``."""
    _BASE: ClassVar[str | None] = None
    """Set by :meth:`pointed_at` only: the replica's origin (``http://127.0.0.2:8123``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._HOSTS and cls._PATH:
            if cls._BASE is None:
                cls._VALID_URL = rf"https?://(?P<host>{cls._HOSTS}){cls._PATH}"
            else:
                cls._VALID_URL = rf"{re.escape(cls._BASE)}/(?P<host>{cls._HOSTS}){cls._PATH}"

    @classmethod
    def pointed_at(cls, base: str) -> type[SiteIE]:
        """This extractor reading ``<base>/<host>/<path>`` instead of ``https://<host>/<path>``."""
        pointed: type[SiteIE] = _pointed(cls, base.rstrip("/"))
        return pointed

    @classmethod
    def _site_url(cls, host: str, path: str) -> str:
        """The URL of ``path`` (from its first ``/``, query included) on ``host``."""
        if cls._BASE is not None:
            return f"{cls._BASE}/{host}{path}"
        return f"https://{host}{path}"

    @classmethod
    def _site_parts(cls, url: str) -> tuple[str, str]:
        """``(host, path with query)`` of a URL of this site, e.g. where a short link led."""
        if cls._BASE is not None and url.startswith(cls._BASE + "/"):
            host, _, rest = url[len(cls._BASE) + 1 :].partition("/")
            return host.lower(), "/" + rest
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return (parts.hostname or "").lower(), path or "/"

    @classmethod
    def _site_join(cls, page_url: str, href: str) -> str:
        """``href`` as found on the page at ``page_url``, made absolute the way a browser would.

        A root-relative ``/x`` stays on the page's host (on a replica too); a protocol-relative
        ``//host/x`` (or a malformed ``////host/x``) takes the page's scheme.
        """
        href = href.strip()
        if href.startswith("//"):
            href = "//" + href.lstrip("/")
        elif href.startswith("/"):
            return cls._site_url(cls._site_parts(page_url)[0], href)
        return urljoin(page_url, href)


class _Pointed(type):
    """The metaclass of a pointed extractor, pickled as "this site's class, pointed at base".

    The server hands extractor classes to its extraction processes by pickle, which finds a
    class by its module and name: a class made at run time has neither, so it is rebuilt there.
    """


_POINTED: dict[tuple[type, str], Any] = {}


def _pointed(site: type[SiteIE], base: str) -> Any:
    """One pointed class per site and base, so a class unpickled here is the same class."""
    key = (site, base)
    if key not in _POINTED:
        ns = {"_BASE": base, "__module__": site.__module__, "__qualname__": site.__qualname__}
        _POINTED[key] = _Pointed(site.__name__, (site,), ns)
    return _POINTED[key]


def _reduce(cls: Any) -> tuple[Any, tuple[type, str]]:
    return _pointed, (cls.__bases__[0], cls._BASE)


copyreg.pickle(_Pointed, _reduce)
