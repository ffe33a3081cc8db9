"""The base of mediadl's own site extractors: URL patterns declared as hosts and paths.

A site module declares ``_HOSTS`` (a pattern of the hosts it reads) and ``_PATH`` (a pattern of
the path, with an ``id`` group); ``_VALID_URL`` is made of them. Every URL the extractor builds
goes through :meth:`SiteIE._site_url`, and every URL it is given or redirected to is read back
through :meth:`SiteIE._site_parts`, so :meth:`SiteIE.pointed_at` can aim the same code at a
replica of the site (the fixture site serves ``<base>/<host>/<path>``) without the production
class matching anything but the real hosts.

The helpers here serve every site: :meth:`SiteIE._download_following` fetches a page through
yt-dlp's own request path (so through the egress guard, redirects included) and says where it
landed, which is how short links are followed; :meth:`SiteIE._json_ld_object` picks the first
JSON-LD object of a given type; :func:`objects_with` and :func:`first_with` find the objects
holding a key anywhere in a page's state, whose nesting changes more often than its field names.
An aimed class pickles as its production class and base, so it crosses into the server's
extraction sandbox like the production one.
"""

from __future__ import annotations

import copyreg
import re
from collections.abc import Iterator
from typing import Any, ClassVar, cast
from urllib.parse import urljoin, urlsplit

from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.utils import variadic

__all__ = ["SiteIE", "first_with", "objects_with"]

_MAX_DEPTH = 32
"""How deep :func:`objects_with` looks into a page's state (bounds a hostile page's nesting)."""


def objects_with(state: Any, key: str) -> Iterator[dict[str, Any]]:
    """Every object (depth first) in ``state`` that has ``key``."""
    return (found for found in _objects(state, 0) if key in found)


def first_with(state: Any, key: str) -> dict[str, Any] | None:
    """The first object (depth first) in ``state`` that has ``key``, or ``None``."""
    return next(objects_with(state, key), None)


def _objects(state: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(state, dict):
        yield state
        children: Any = state.values()
    elif isinstance(state, list):
        children = state
    else:
        return
    for child in children:
        yield from _objects(child, depth + 1)


class _Pointed(type):
    """The metaclass of an extractor aimed at a replica: pickled as ``(production class, base)``
    (a class made at run time can't be pickled by name)."""


_POINTED: dict[tuple[str, str, str], type[SiteIE]] = {}
"""Each ``(module, class, base)`` aimed once, so a class's identity (which caches key on) holds."""


def _pointed(cls: type[SiteIE], base: str) -> type[SiteIE]:
    key = (cls.__module__, cls.__qualname__, base)
    if key not in _POINTED:
        attrs = {"_BASE": base, "__module__": cls.__module__}
        _POINTED[key] = cast("type[SiteIE]", _Pointed(cls.__name__, (cls,), attrs))
    return _POINTED[key]


def _reduce_pointed(pointed: _Pointed) -> tuple[Any, tuple[Any, ...]]:
    return _pointed, (pointed.__bases__[0], getattr(pointed, "_BASE", ""))


copyreg.pickle(_Pointed, _reduce_pointed)


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
        """This extractor reading ``<base>/<host>/<path>`` instead of ``https://<host>/<path>``.

        The same ``(cls, base)`` gives the same class, and it pickles (as the pair), so it also
        crosses into the server's extraction sandbox.
        """
        return _pointed(cls, base.rstrip("/"))

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

    def _download_following(self, url: str, video_id: str, **kwargs: Any) -> tuple[str, str, str]:
        """``(page, host, path)``: the page at ``url`` after its redirects, and where it landed.

        The request goes through yt-dlp's own path, so every hop passes the egress guard.
        """
        webpage, handle = self._download_webpage_handle(url, video_id, **kwargs)
        host, path = self._site_parts(handle.url)
        return str(webpage), host, path

    def _json_ld_object(self, webpage: str, video_id: str, *types: str) -> dict[str, Any] | None:
        """The first JSON-LD object (``@graph`` members too) whose ``@type`` is one of ``types``."""
        for item in self._yield_json_ld(webpage, video_id, default=None):
            for obj in variadic(item.get("@graph") or item):
                if isinstance(obj, dict) and set(variadic(obj.get("@type"))) & set(types):
                    return obj
        return None
