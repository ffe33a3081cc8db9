"""HTML pages and the RSS feed, rendered per request.

Media links in ``<video>``/``<audio>`` are relative (``../media/...``) so a knob prefix
carries over. Fields that must be absolute URLs for yt-dlp (og:image, og:video, JSON-LD,
RSS enclosures: yt-dlp doesn't resolve those against the page) are rendered absolute
from ``base``, which already includes the request's knob prefix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from .catalog import ASSETS, PAGES, UNICODE_TITLE, VIDEO_TITLE, clip_duration
from .media import MediaSet

UPLOAD_DATE = "2024-05-01T12:00:00+00:00"
RSS_DATES = (
    "Mon, 06 May 2024 10:00:00 GMT",
    "Tue, 07 May 2024 10:00:00 GMT",
    "Wed, 08 May 2024 10:00:00 GMT",
)


@dataclass(frozen=True)
class Ctx:
    base: str
    """Absolute site URL including the knob prefix, no trailing slash."""
    media: MediaSet


def _doc(ctx: Ctx, title: str, body: str, *, og: bool = True, extra_head: str = "") -> str:
    t = escape(title)
    meta = ""
    if og:
        meta = (
            f'<meta property="og:title" content="{t}">\n'
            f'<meta property="og:image" content="{ctx.base}/media/thumb.jpg">\n'
            '<meta property="og:site_name" content="mediadl fixtures">\n'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{t}</title>\n{meta}{extra_head}</head>\n<body>\n<h1>{t}</h1>\n{body}\n"
        "</body>\n</html>\n"
    )


def _player(tag: str, src: str, mime: str, poster: bool = True) -> str:
    attrs = ' poster="../media/thumb.jpg"' if poster and tag == "video" else ""
    return f'<{tag} controls{attrs}>\n<source src="{src}" type="{mime}">\n</{tag}>'


def video(ctx: Ctx) -> str:
    body = _player("video", "../media/progressive.mp4", "video/mp4")
    return _doc(ctx, VIDEO_TITLE, body)


def og(ctx: Ctx) -> str:
    head = (
        f'<meta property="og:video" content="{ctx.base}/media/progressive.mp4">\n'
        '<meta property="og:video:type" content="video/mp4">\n'
        f'<meta property="og:video:width" content="{ctx.media.recipe.progressive.width}">\n'
        f'<meta property="og:video:height" content="{ctx.media.recipe.progressive.height}">\n'
    )
    return _doc(ctx, "Fixture og:video page", "<p>Open Graph only.</p>", extra_head=head)


def jsonld(ctx: Ctx) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": "Fixture JSON-LD video",
        "description": "A VideoObject described only by JSON-LD.",
        "contentUrl": f"{ctx.base}/media/progressive.mp4",
        "thumbnailUrl": [f"{ctx.base}/media/thumb.jpg"],
        "duration": f"PT{ctx.media.recipe.duration}S",
        "uploadDate": UPLOAD_DATE,
        "author": {"@type": "Person", "name": "Fixture Author"},
    }
    script = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    head = f'<script type="application/ld+json">\n{script}\n</script>\n'
    return _doc(ctx, "Fixture JSON-LD page", "<p>Structured data only.</p>", extra_head=head)


def _stream_page(title: str, src: str, mime: str) -> Callable[[Ctx], str]:
    def render(ctx: Ctx) -> str:
        return _doc(ctx, title, _player("video", src, mime))

    return render


def audio(ctx: Ctx) -> str:
    return _doc(ctx, "Fixture audio (m4a)", _player("audio", "../media/audio.m4a", "audio/mp4"))


def mp3(ctx: Ctx) -> str:
    return _doc(ctx, "Fixture audio (mp3)", _player("audio", "../media/audio.mp3", "audio/mpeg"))


def post(ctx: Ctx) -> str:
    body = "\n".join(
        f"<figure>\n{_player('video', f'../media/{c}.mp4', 'video/mp4')}\n</figure>"
        for c in ("clip1", "clip2")
    )
    return _doc(ctx, "Fixture post with two videos", body)


def unicode_page(ctx: Ctx) -> str:
    return _doc(ctx, UNICODE_TITLE, _player("video", "../media/clip1.mp4", "video/mp4"))


def nomedia(ctx: Ctx) -> str:
    body = (
        "<article>\n<p>This article has text, a link and an image, but no media.</p>\n"
        '<p><a href="video.html">a page with a video</a></p>\n'
        '<img src="../media/thumb.jpg" alt="bars">\n</article>'
    )
    return _doc(ctx, "Fixture page without media", body)


def feed(ctx: Ctx) -> str:
    items = []
    for i, date in enumerate(RSS_DATES, start=1):
        name = f"clip{i}"
        seconds = clip_duration(name, ctx.media.recipe)
        size = ctx.media.file(name).stat().st_size
        items.append(
            f"<item>\n<title>Fixture clip {i} ({seconds} s)</title>\n"
            f"<link>{ctx.base}/pages/video.html</link>\n"
            f'<guid isPermaLink="false">{name}</guid>\n<pubDate>{date}</pubDate>\n'
            f'<enclosure url="{ctx.base}/media/{name}.mp4" length="{size}" type="video/mp4"/>\n'
            f"<itunes:duration>{seconds}</itunes:duration>\n"
            f'<itunes:image href="{ctx.base}/media/thumb.jpg"/>\n</item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">\n'
        "<channel>\n<title>Fixture feed</title>\n"
        f"<link>{ctx.base}/</link>\n<description>Three short clips.</description>\n"
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )


def index(ctx: Ctx) -> str:
    pages = "\n".join(
        f'<li><a href="{p.path.lstrip("/") or "."}">{escape(p.name)}</a>: '
        f"{escape(p.description)}</li>"
        for p in PAGES.values()
        if p.name != "index"
    )
    assets = "\n".join(
        f'<li><a href="{a.path.lstrip("/")}">{escape(a.name)}</a>: {escape(a.description)}</li>'
        for a in ASSETS.values()
    )
    body = f"<h2>Pages</h2>\n<ul>\n{pages}\n</ul>\n<h2>Media</h2>\n<ul>\n{assets}\n</ul>"
    return _doc(ctx, "mediadl fixture site", body, og=False)


RENDERERS: dict[str, Callable[[Ctx], str]] = {
    "index": index,
    "video": video,
    "og": og,
    "jsonld": jsonld,
    "hls": _stream_page("Fixture HLS (TS)", "../hls/master.m3u8", "application/x-mpegURL"),
    "hls_fmp4": _stream_page(
        "Fixture HLS (fMP4)", "../hls-fmp4/master.m3u8", "application/x-mpegURL"
    ),
    "dash": _stream_page("Fixture DASH", "../dash/manifest.mpd", "application/dash+xml"),
    "audio": audio,
    "mp3": mp3,
    "feed": feed,
    "post": post,
    "unicode": unicode_page,
    "nomedia": nomedia,
}
BY_PATH: dict[str, str] = {p.path: p.name for p in PAGES.values()}


def render(name: str, ctx: Ctx) -> tuple[bytes, str]:
    """(body, content type) of a catalog page."""
    text = RENDERERS[name](ctx)
    ctype = "application/rss+xml" if name == "feed" else "text/html; charset=utf-8"
    return text.encode("utf-8"), ctype
