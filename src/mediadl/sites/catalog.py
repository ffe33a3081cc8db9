"""The sites the product names, in the order it names them: what each one gives and who reads it.

Data, not code: the page's "Works with" list, ``mediadl sites`` and the tests that hold every
named site to a named extractor all read :data:`CATALOG`. Each entry says

* ``sample``: a public link of the site (``mediadl sites --check`` reads it);
* ``shape``: the shape of link to paste, shown on the page (``…`` marks the part that varies);
* ``status``: ``readable``; ``limited`` with a ``limit`` (a key of :data:`LIMITS`); or
  ``unavailable`` with the ``error`` code mediadl answers every link of the site with;
* ``extractor``: the key of the extractor that takes the site's links (yt-dlp's, like
  ``TwitchVod``, or mediadl's own from :mod:`mediadl.sites`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CATALOG", "LIMITS", "Site", "Status", "by_title"]

Status = Literal["readable", "limited", "unavailable"]

LIMITS: dict[str, str] = {
    "public_only": "public posts only; some need a login",
    "login_often": "public posts only; often asks for a login (cookies)",
    "cookies": "often needs a browser's cookies",
    "closed_2021": "closed in 2021; only a few old replays still play",
    "unverified": "page structure not verified live",
}
"""Why a ``limited`` site is limited, in English (the page has its own words in each language)."""


@dataclass(frozen=True, slots=True)
class Site:
    """One named site."""

    title: str
    sample: str
    shape: str
    extractor: str
    status: Status = "readable"
    limit: str | None = None
    error: str | None = None

    @property
    def reason(self) -> str | None:
        """Why it is limited or unavailable, in English; ``None`` when readable."""
        if self.status == "limited" and self.limit:
            return LIMITS[self.limit]
        return self.error

    def to_dict(self) -> dict[str, str]:
        """The JSON of ``mediadl sites --json``: ``extractor`` or ``error``, never both."""
        body = {"title": self.title, "status": self.status, "sample": self.sample}
        if self.error:
            body["error"] = self.error
        else:
            body["extractor"] = self.extractor
        if self.reason and self.status == "limited":
            body["reason"] = self.reason
        return body


def _limited(title: str, sample: str, shape: str, extractor: str, limit: str) -> Site:
    return Site(title, sample, shape, extractor, "limited", limit=limit)


def _gone(title: str, sample: str, shape: str, extractor: str, error: str) -> Site:
    return Site(title, sample, shape, extractor, "unavailable", error=error)


CATALOG: tuple[Site, ...] = (
    Site("YouTube", "https://www.youtube.com/watch?v=OLCJYT5y8Bo",
         "https://www.youtube.com/watch?v=…", "Youtube"),
    Site("VK", "https://vk.com/video-77521_162222515", "https://vk.com/video-…_…", "VK"),
    Site("Vimeo", "https://vimeo.com/56015672", "https://vimeo.com/…", "Vimeo"),
    _limited("Twitter / X", "https://twitter.com/freethenipple/status/643211948184596480",
             "https://x.com/…/status/…", "Twitter", "public_only"),
    Site("Twitch", "https://www.twitch.tv/videos/6528877", "https://www.twitch.tv/videos/…",
         "TwitchVod"),
    Site("Tumblr",
         "https://tatianamaslanydaily.tumblr.com/post/54196191430/orphan-black-dvd-extra-behind-the-scenes",
         "https://….tumblr.com/post/…", "Tumblr"),
    Site("TikTok", "https://www.tiktok.com/@leenabhushan/video/6748451240264420610",
         "https://www.tiktok.com/@…/video/…", "TikTok"),
    Site("Telegram", "https://t.me/europa_press/613", "https://t.me/…/…", "TelegramEmbed"),
    Site("TED", "https://www.ted.com/talks/dan_dennett_on_our_consciousness",
         "https://www.ted.com/talks/…", "TedTalk"),
    Site("Streamable", "https://streamable.com/dnd1", "https://streamable.com/…", "Streamable"),
    Site("SoundCloud", "https://soundcloud.com/ethmusic/lostin-powers-she-so-heavy",
         "https://soundcloud.com/…/…", "Soundcloud"),
    Site("Snapchat",
         "https://www.snapchat.com/spotlight/W7_EDlXWTBiXAEEniNoMPwAAYYWtidGhudGZpAX1TKn0JAX1TKnXJAAAAAA",
         "https://www.snapchat.com/spotlight/…", "SnapchatSpotlight"),
    Site("ShareChat", "https://sharechat.com/video/nZaw4XM", "https://sharechat.com/video/…",
         "ShareChat"),
    Site("Rumble", "https://rumble.com/v2ka6rc-example.html", "https://rumble.com/v…-….html",
         "Rumble"),
    Site("Reddit", "https://www.reddit.com/r/videos/comments/6rrwyj/that_small_heart_attack/",
         "https://www.reddit.com/r/…/comments/…/…/", "Reddit"),
    Site("PuhuTV", "https://puhutv.com/sut-kardesler-izle", "https://puhutv.com/…-izle",
         "PuhuTV"),
    Site("Pinterest", "https://www.pinterest.com/pin/664281013778109217/",
         "https://www.pinterest.com/pin/…/", "Pinterest"),
    _limited("Periscope",
             "https://www.periscope.tv/w/aJUQnjY3MjA3ODF8NTYxMDIyMDl2zCg2pECBgwTqRpQuQD013wkeZZ5lZ9Cuz1dUQ",
             "https://www.periscope.tv/w/…", "Periscope", "closed_2021"),
    Site("Ok.ru", "https://ok.ru/video/20079905452", "https://ok.ru/video/…", "Odnoklassniki"),
    _gone("MX TakaTak", "https://www.mxtakatak.com/xt0.3a20d8ff5fce42bbb2f4a7ec8bc26e7b",
          "https://www.mxtakatak.com/…", "MxTakatak", "site.closed"),
    Site("Mixcloud", "https://www.mixcloud.com/dholbach/cryptkeeper/",
         "https://www.mixcloud.com/…/…/", "Mixcloud"),
    Site("Mashable", "https://mashable.com/video/humanoid-robot-boxing-unitree-g1-battle",
         "https://mashable.com/video/…", "Mashable"),
    _limited("LinkedIn",
             "https://www.linkedin.com/posts/mishalkhawaja_sendinblueviews-toronto-digitalmarketing-ugcPost-6850898786781339649-mM20",
             "https://www.linkedin.com/posts/…", "LinkedIn", "public_only"),
    Site("Likee", "https://likee.video/@huynh_hong_quan_/video/7093444807096327263",
         "https://likee.video/@…/video/…", "Likee"),
    Site("Kwai", "https://www.kwai.com/@SHREKPAPORETOO/video/5199555880897549098",
         "https://www.kwai.com/@…/video/…", "Kwai"),
    _limited("Izlesene",
             "https://www.izlesene.com/video/sevincten-cildirtan-dogum-gunu-hediyesi/7599694",
             "https://www.izlesene.com/video/…/…", "Izlesene", "unverified"),
    _limited("Instagram", "https://www.instagram.com/p/aye83DjauH/",
             "https://www.instagram.com/p/…/", "Instagram", "login_often"),
    Site("Imgur", "https://imgur.com/A61SaA1", "https://imgur.com/…", "Imgur"),
    Site("IMDb", "https://www.imdb.com/video/vi2524815897", "https://www.imdb.com/video/vi…",
         "Imdb"),
    Site("iFunny", "https://ifunny.co/video/hacking-printer-xRQEhCDw9",
         "https://ifunny.co/video/…", "Ifunny"),
    _gone("Gaana", "https://gaana.com/song/tum-hi-ho", "https://gaana.com/song/…", "Gaana",
          "site.subscription"),
    Site("Flickr", "https://www.flickr.com/photos/forestwander-nature-pictures/5645318632",
         "https://www.flickr.com/photos/…/…", "Flickr"),
    Site("Febspot", "https://www.febspot.com/video/3218504", "https://www.febspot.com/video/…",
         "Febspot"),
    _limited("Facebook", "https://www.facebook.com/watch/?v=274175099429670",
             "https://www.facebook.com/watch/?v=…", "Facebook", "public_only"),
    Site("ESPN", "https://www.espn.com/video/clip?id=10365079",
         "https://www.espn.com/video/clip?id=…", "ESPN"),
    _limited("Douyin", "https://www.douyin.com/video/6961737553342991651",
             "https://www.douyin.com/video/…", "Douyin", "cookies"),
    Site("Dailymotion", "https://www.dailymotion.com/video/x5kesuj",
         "https://www.dailymotion.com/video/…", "Dailymotion"),
    Site("BuzzFeed",
         "https://www.buzzfeed.com/abagg/this-angry-ram-destroys-a-punching-bag-like-a-boss",
         "https://www.buzzfeed.com/…/…", "BuzzFeed"),
    _gone("BluTV", "https://www.blutv.com/dizi/yerli/x/1-sezon/1-bolum",
          "https://www.blutv.com/…", "BluTV", "site.drm"),
    Site("Blogger",
         "https://www.blogger.com/video.g?token=AD6v5dzEe9hfcARr5Hlq1WTkYy6t-fXH3BBahVhGvVHe5szdEUBEloSEDSTA8-b111089KbfWuBvTN7fnbxMtymsHhXAXwVvyzHH4Qch2cfLQdGxKQrrEuFpC1amSl_9GuLWODjPgw",
         "https://www.blogger.com/video.g?token=…", "Blogger"),
    Site("BitChute", "https://www.bitchute.com/video/UGlrF9o9b-Q/",
         "https://www.bitchute.com/video/…/", "BitChute"),
    Site("Bilibili", "https://www.bilibili.com/video/BV13x41117TL",
         "https://www.bilibili.com/video/BV…", "BiliBili"),
    Site("Bandcamp", "https://youtube-dl.bandcamp.com/track/youtube-dl-test-song",
         "https://….bandcamp.com/track/…", "Bandcamp"),
    _limited("Akıllı TV", "https://www.akilli.tv/video/kukuli-1-bolum",
             "https://www.akilli.tv/video/…", "AkilliTv", "unverified"),
    Site("9GAG", "https://9gag.com/gag/ae5Ag7B", "https://9gag.com/gag/…", "NineGag"),
)  # fmt: skip
"""The 45 named sites, in the page's order."""


def by_title(title: str) -> Site:
    """The catalogue entry called ``title`` (``KeyError`` when there is none)."""
    for site in CATALOG:
        if site.title == title:
            return site
    raise KeyError(title)
