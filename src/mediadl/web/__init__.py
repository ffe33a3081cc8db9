"""The web page: what a person sees at ``/``.

Plain HTML, CSS and ES modules from this package (no build step, nothing from third parties),
message catalogs in English and Turkish, and a few routes to serve them:

    GET /                       → :func:`page_response` (called by the service's root route)
    GET /static/<version>/<f>   → the page's files, cached for a year per version
    GET /sites                  → every site the engine reads
"""

from __future__ import annotations

from mediadl.web.i18n import LANGUAGES, catalog, pick_language
from mediadl.web.pages import JobsMode, page_response, sites_response
from mediadl.web.routes import router

__all__ = [
    "LANGUAGES",
    "JobsMode",
    "catalog",
    "page_response",
    "pick_language",
    "router",
    "sites_response",
]
