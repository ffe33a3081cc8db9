"""mediadl's own site extractors, for the named sites yt-dlp doesn't read.

Each module reads one site (``sharechat``, ``kwai``, …) as a yt-dlp ``InfoExtractor`` built on
:class:`~mediadl.sites.base.SiteIE`; :func:`extractors` hands them to the engine, which registers
them ahead of yt-dlp's own (so ahead of the generic extractor too).
"""

from __future__ import annotations

from yt_dlp.extractor.common import InfoExtractor

__all__ = ["extractors"]


def extractors() -> tuple[type[InfoExtractor], ...]:
    """Every extractor of mediadl's own, in the order they are asked."""
    return (*_closed(),)


def _closed() -> tuple[type[InfoExtractor], ...]:
    """The named sites that can't be downloaded any more, answered from the link alone."""
    from mediadl.sites.closed import BluTVIE, GaanaIE, MxTakatakIE

    return (BluTVIE, MxTakatakIE, GaanaIE)
