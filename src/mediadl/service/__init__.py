"""The server behind the web page: native JSON API, cobalt-compatible API, streaming tunnels.

``create_app(settings)`` builds the ASGI app that ``mediadl serve`` runs on uvicorn.
"""

from __future__ import annotations

from mediadl.service.app import create_app

__all__ = ["create_app"]
