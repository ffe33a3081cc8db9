"""Named sites whose links can't be downloaded any more: each answered from the link alone.

A person who pastes a BluTV, MX TakaTak or Gaana link deserves to hear what happened to the site,
not a generic "no video here" after a round trip to a page that redirects somewhere else. These
extractors match every link of their site and raise its error at once, before any request:

* BluTV became HBO Max in Türkiye (April 2025); HBO Max protects every video with DRM.
* MX TakaTak merged into Moj (announced February 2022) and its site no longer serves videos.
* Gaana stopped free streaming in September 2022: it streams only to signed-in subscribers, and
  its stream links are encrypted.
"""

from __future__ import annotations

from typing import ClassVar, NoReturn

from mediadl import errors
from mediadl.sites.base import SiteIE

__all__ = ["BluTVIE", "ClosedSiteIE", "GaanaIE", "MxTakatakIE"]

ANY_PATH = r"(?=[/?#]|$)(?:/(?P<id>[^?#]*))?"
"""Every page of the site: none of them leads to a download any more."""


class ClosedSiteIE(SiteIE):
    """A site answered with :attr:`error` and :attr:`message`, whatever the link."""

    error: ClassVar[type[errors.SiteError]] = errors.SiteClosed
    message: ClassVar[str] = ""
    service: ClassVar[str] = ""
    """The lower-case name the cobalt face reports as ``context.service``."""

    def _real_extract(self, url: str) -> NoReturn:
        raise self.error(self.message, site=self.IE_NAME, service=self.service, url=url)


class BluTVIE(ClosedSiteIE):
    IE_NAME = "BluTV"
    IE_DESC = "BluTV, now HBO Max (DRM): answered with site.drm"
    _HOSTS = r"(?:www\.)?blutv\.com(?:\.tr)?"
    _PATH = ANY_PATH
    error = errors.SiteDrm
    service = "blutv"
    message = (
        "BluTV is now HBO Max; its videos are protected (DRM) and can't be downloaded. "
        "Watch them in the HBO Max app."
    )


class MxTakatakIE(ClosedSiteIE):
    IE_NAME = "MxTakatak"
    IE_DESC = "MX TakaTak, merged into Moj in 2022: answered with site.closed"
    _HOSTS = r"(?:(?:www|m|v|share)\.)?mxtakatak\.com"
    _PATH = ANY_PATH
    error = errors.SiteClosed
    service = "mxtakatak"
    message = (
        "MX TakaTak closed in 2022 and moved to Moj, so this link no longer leads to a video. "
        "If the clip was posted again on Moj (mojapp.in) or ShareChat, paste that link instead."
    )


class GaanaIE(ClosedSiteIE):
    IE_NAME = "Gaana"
    IE_DESC = "Gaana, subscribers only: answered with site.subscription"
    _HOSTS = r"(?:www\.)?gaana\.com"
    _PATH = ANY_PATH
    error = errors.SiteSubscription
    service = "gaana"
    message = (
        "Gaana now streams songs only to its signed-in subscribers, and the streams are "
        "encrypted, so mediadl can't download them. Listen in the Gaana app, or look for the "
        "song on a site mediadl reads (YouTube, SoundCloud, Bandcamp)."
    )
