"""mediadl's own site extractors, for the named sites yt-dlp doesn't read.

Each module reads one site (``sharechat``, ``kwai``, …) as a yt-dlp ``InfoExtractor`` built on
:class:`~mediadl.sites.base.SiteIE`; :func:`extractors` hands them to the engine, which registers
them ahead of yt-dlp's own (so ahead of the generic extractor too).
"""

from __future__ import annotations

from yt_dlp.extractor.common import InfoExtractor

from mediadl.sites.akillitv import AkilliTvIE
from mediadl.sites.closed import BluTVIE, GaanaIE, MxTakatakIE
from mediadl.sites.febspot import FebspotIE
from mediadl.sites.ifunny import IfunnyIE
from mediadl.sites.izlesene import IzleseneIE
from mediadl.sites.kuaishou import KuaishouIE, KuaishouShortIE
from mediadl.sites.kwai import KwaiIE, KwaiShortIE
from mediadl.sites.mashable import MashableIE
from mediadl.sites.sharechat import ShareChatIE

__all__ = ["extractors"]


def extractors() -> tuple[type[InfoExtractor], ...]:
    """Every extractor of mediadl's own, in the order they are asked."""
    return (
        ShareChatIE,
        MashableIE,
        KwaiIE,
        KwaiShortIE,
        KuaishouIE,
        KuaishouShortIE,
        IfunnyIE,
        FebspotIE,
        IzleseneIE,
        AkilliTvIE,
        BluTVIE,
        MxTakatakIE,
        GaanaIE,
    )
