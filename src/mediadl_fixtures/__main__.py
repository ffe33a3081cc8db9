"""``python -m mediadl_fixtures``: serve the fixture site by hand until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

from . import members
from .catalog import ASSETS, PAGES
from .media import default_cache_dir, ensure_media
from .recipe import Recipe
from .server import DEFAULT_HOST, FixtureSite
from .threaded import running_site


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mediadl-fixtures", description=__doc__)
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=8800)
    p.add_argument("--latency", type=float, default=0, metavar="MS")
    p.add_argument(
        "--rate", type=int, default=None, metavar="B/S", help="per-connection bandwidth cap"
    )
    p.add_argument(
        "--total-rate", type=int, default=None, metavar="B/S", help="server-wide bandwidth cap"
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--big", action="store_true", help="benchmark-sized media (Recipe.big())")
    size.add_argument("--tiny", action="store_true", help="smallest media (Recipe.tiny())")
    p.add_argument("--cache-dir", default=None, help=f"default: {default_cache_dir()}")
    p.add_argument(
        "--generate-only",
        action="store_true",
        help="generate (or find) the media, print where, and exit",
    )
    return p


def _print_urls(site: FixtureSite) -> None:
    for name in PAGES:
        print(f"  page  {name:18} {site.url(name)}")
    for name in ASSETS:
        print(f"  media {name:18} {site.url(name)}")
    print("knobs: insert e.g. /k/latency=50,rate=250000 after the host (see knobs.py)")
    print(
        f"members only: {site.base_url}/v/pages/video.html answers 403 without the cookie "
        f"{members.MEMBER_COOKIE}={members.MEMBER_VALUE} (Path=/v; see members.py)"
    )
    print(f"serving {site.base_url}/  (Ctrl-C to stop)", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    recipe = Recipe.big() if args.big else Recipe.tiny() if args.tiny else Recipe()
    print("preparing media (the first run generates it with ffmpeg)...", flush=True)
    media = ensure_media(recipe, args.cache_dir)
    print(f"media: {media.site_dir}", flush=True)
    if args.generate_only:
        return 0
    try:
        with running_site(
            args.host,
            args.port,
            media=media,
            latency=args.latency,
            rate=args.rate,
            total_rate=args.total_rate,
        ) as site:
            _print_urls(site)
            threading.Event().wait()
    except KeyboardInterrupt:
        print("bye", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
