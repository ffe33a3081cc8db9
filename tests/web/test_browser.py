"""The page as a person uses it, in Chromium: paste, preview, pick, download, in both languages,
with the keyboard alone, on a phone-sized screen, light and dark."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Download, Page, expect

from mediadl.engine.probe import probe
from mediadl.web import catalog
from mediadl_fixtures.catalog import PAGES, UNICODE_TITLE
from mediadl_fixtures.server import FixtureSite

from .conftest import serving

pytestmark = pytest.mark.slow

EN = catalog("en")
TR = catalog("tr")
UNSUPPORTED = "ftp://example.com/video.mp4"

OpenPage = Callable[..., Page]


def paste(page: Page, text: str) -> None:
    """Put ``text`` on the clipboard and paste it into the field, as a person does."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.locator("#url").focus()
    page.keyboard.press("ControlOrMeta+V")


def wait_for_preview(page: Page) -> None:
    expect(page.locator("#result .card")).to_be_visible()
    for img in page.locator("#result img").all():
        expect(img).to_have_js_property("complete", True)


def collect_downloads(page: Page) -> list[Download]:
    """Every download the page starts from now on."""
    found: list[Download] = []

    def record(started: Download) -> None:  # Playwright wants a Python function, not a builtin
        found.append(started)

    page.on("download", record)
    return found


def download(page: Page, button: str | re.Pattern[str], folder: Path) -> tuple[Download, Path]:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    saved = folder / info.value.suggested_filename
    info.value.save_as(saved)
    return info.value, saved


def expect_list_done(page: Page, count: int, timeout: float = 15_000) -> None:
    """The list's closing status; on failure, say which items failed and what the page said."""
    try:
        expect(page.locator("#status")).to_have_text(
            EN("status.list_done", count=count), timeout=timeout
        )
    except AssertionError as failure:
        states = page.locator("#result .entries li").evaluate_all(
            "rows => rows.map(r => r.dataset.state + ': ' + r.innerText.replace(/\\s+/g, ' '))"
        )
        said = page.locator("#problem-text").inner_text()
        raise AssertionError(f"items: {states}; the page said: {said!r}") from failure


def shoot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=artifacts / f"{name}.png", full_page=True)


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"] if page.viewport_size else True


def test_paste_preview_720p_download(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, artifacts: Path
) -> None:
    page = open_page()
    shoot(page, artifacts, "home-desktop-light")
    paste(page, site.pages["hls"])
    wait_for_preview(page)
    card = page.locator("#result .card")
    expect(card.get_by_role("heading", level=2)).to_have_text("Fixture HLS (TS) (1)")
    expect(card.locator(".facts")).to_contain_text("127.0.0.2")
    assert card.locator(".thumb img").evaluate("img => img.naturalWidth") > 0
    expect(card.get_by_role("radio", name=re.compile("1080p"))).to_be_checked()
    expect(card.locator(".opt", has_text="1080p")).to_contain_text(EN("choice.recommended"))
    shoot(page, artifacts, "preview-desktop-light")

    card.get_by_role("radio", name=re.compile("720p")).check()
    got, saved = download(page, EN("download.video", quality="720p", ext="MP4"), tmp_path)

    assert got.suggested_filename == "Fixture HLS (TS) (1) (720p).mp4"
    result = probe(saved)
    assert result.video is not None and result.video.height == 720
    assert result.audio is not None
    done = EN("status.done", filename=got.suggested_filename)
    expect(page.locator("#status")).to_have_text(done)
    expect(card.locator(".transfer-text")).to_have_text(done)
    shoot(page, artifacts, "downloaded-desktop-light")


def test_audio_as_mp3(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, artifacts: Path
) -> None:
    page = open_page(scheme="dark")
    paste(page, site.pages["audio"])
    wait_for_preview(page)
    card = page.locator("#result .card")
    expect(card.get_by_role("group", name=EN("choice.video"))).to_have_count(0)
    card.get_by_role("radio", name=re.compile("^MP3")).check()
    shoot(page, artifacts, "preview-audio-desktop-dark")
    got, saved = download(page, EN("download.audio", format="MP3"), tmp_path)
    assert got.suggested_filename.endswith(".mp3")
    result = probe(saved)
    assert result.video is None
    assert result.audio is not None and result.audio.codec.removesuffix("float") == "mp3"
    expect(page.locator("#status")).to_have_text(EN("status.done", filename=got.suggested_filename))


def test_busy_while_the_site_is_read(
    open_page: OpenPage, site: FixtureSite, artifacts: Path
) -> None:
    page = open_page()
    paste(page, site.url("video", latency=2000))
    busy = page.locator("#busy")
    expect(busy).to_be_visible()
    expect(busy).to_contain_text(EN("status.resolving"))
    expect(page.locator("#status")).to_have_text(EN("status.resolving"))
    shoot(page, artifacts, "reading-desktop-light")
    wait_for_preview(page)
    expect(busy).to_be_hidden()


def test_progress_while_bytes_flow(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, artifacts: Path
) -> None:
    page = open_page()
    paste(page, site.url("video", total_rate=600_000))  # ~3 MB: about five seconds
    wait_for_preview(page)
    bar = page.locator("#result .transfer progress")
    text = page.locator("#result .transfer-text")
    with page.expect_download() as info:
        page.locator("#result button[type=submit]").click()
    expect(text).to_contain_text(re.compile(r" of .* · "))
    sent, total = bar.evaluate("bar => [bar.value, bar.max]")
    assert 0 < sent < total == site.media["progressive"].stat().st_size
    shoot(page, artifacts, "downloading-desktop-light")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.read_bytes() == site.media["progressive"].read_bytes()
    expect(page.locator("#status")).to_have_text(
        EN("status.done", filename=info.value.suggested_filename)
    )
    assert bar.evaluate("bar => bar.value === bar.max")


def test_a_hostile_title_is_shown_plainly_and_names_the_file(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, artifacts: Path
) -> None:
    page = open_page(locale="tr-TR")
    paste(page, site.pages["unicode"])
    wait_for_preview(page)
    heading = page.locator("#media-title")
    shown = heading.text_content() or ""
    assert "\u202e" not in shown
    assert shown.startswith("Çılgın Şarkı / Безумная песня / 疯狂的歌 🎵")
    assert UNICODE_TITLE.replace("\u202e", "").startswith(shown.removesuffix(" (1)")[:30])
    got, saved = download(page, re.compile(r"MP4 indir$"), tmp_path)
    assert got.suggested_filename.startswith("Çılgın Şarkı")
    assert "/" not in got.suggested_filename and "\u202e" not in got.suggested_filename
    assert probe(saved).video is not None
    shoot(page, artifacts, "unicode-desktop-tr")


def test_one_item_of_a_post(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, artifacts: Path
) -> None:
    page = open_page()
    downloads = collect_downloads(page)
    paste(page, site.pages["post"])
    wait_for_preview(page)
    items = page.locator("#result .entries input[type=checkbox]")
    expect(items).to_have_count(PAGES["post"].entries)
    select_all = page.get_by_role("checkbox", name=EN("list.select_all"))
    expect(select_all).to_be_checked()
    shoot(page, artifacts, "list-desktop-light")

    select_all.uncheck()
    expect(page.get_by_role("button", name=EN("list.download", count=0))).to_be_visible()
    items.nth(1).check()
    expect(select_all).not_to_be_checked()
    assert select_all.evaluate("box => box.indeterminate")
    _, saved = download(page, EN("list.download", count=1), tmp_path)

    expect_list_done(page, 1)
    assert len(downloads) == 1
    assert saved.read_bytes() == site.media["clip2"].read_bytes()
    rows = page.locator("#result .entries li")
    expect(rows.nth(1).locator(".entry-state")).to_have_text(EN("list.state.done"))
    expect(rows.nth(0).locator(".entry-state")).to_have_text("")
    shoot(page, artifacts, "list-downloaded-desktop-light")


def test_every_item_of_a_feed_is_its_own_file(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path
) -> None:
    page = open_page()
    downloads = collect_downloads(page)
    paste(page, site.pages["feed"])
    wait_for_preview(page)
    count = PAGES["feed"].entries
    page.get_by_role("button", name=EN("list.download", count=count)).click()
    expect_list_done(page, count)
    assert len(downloads) == count
    for number, got in enumerate(downloads, 1):
        path = tmp_path / got.suggested_filename
        got.save_as(path)
        assert path.read_bytes() == site.media[f"clip{number}"].read_bytes()


def test_a_list_waits_out_the_servers_rate_limit(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path
) -> None:
    with serving(tmp_path, rate_limit="2/4 seconds") as strict:
        page = open_page(server=strict)
        downloads = collect_downloads(page)
        paste(page, site.pages["feed"])  # one request of two
        wait_for_preview(page)
        count = PAGES["feed"].entries
        page.get_by_role("button", name=EN("list.download", count=count)).click()
        waiting = page.locator("#result .entries li[data-state=waiting]")
        expect(waiting.first.locator(".entry-state")).to_have_text(re.compile(r"^Waiting \d+ s$"))
        expect_list_done(page, count, timeout=30_000)
        assert len(downloads) == count
        expect(page.get_by_role("alert")).to_be_hidden()


@pytest.mark.parametrize(
    ("link", "code"),
    [(UNSUPPORTED, "link.unsupported"), ("nomedia", "content.no_media")],
)
def test_errors_in_words_then_the_next_link(
    open_page: OpenPage, site: FixtureSite, artifacts: Path, link: str, code: str
) -> None:
    page = open_page()
    paste(page, site.pages.get(link, link))
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text(EN(f"error.{code}"))
    expect(problem).to_contain_text(EN("error.title"))
    shoot(page, artifacts, f"error-{code}-desktop-light")

    page.locator("#url").fill(site.pages["video"])
    page.keyboard.press("Enter")
    wait_for_preview(page)
    expect(problem).to_be_hidden()


def test_keyboard_only(open_page: OpenPage, site: FixtureSite, tmp_path: Path) -> None:
    page = open_page()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "url":
            break
    assert page.evaluate("document.activeElement.id") == "url"
    ring = page.evaluate("getComputedStyle(document.querySelector('.field')).boxShadow")
    assert "none" not in ring
    page.keyboard.type(site.pages["hls"])
    page.keyboard.press("Enter")
    wait_for_preview(page)
    assert page.evaluate("document.activeElement.id") == "media-title"

    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.type, document.activeElement.value]")
    assert focused == ["radio", "v:1080"]
    outline = page.evaluate("getComputedStyle(document.activeElement.closest('.opt')).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "v:720"
    page.keyboard.press("Tab")  # the "without sound" box
    page.keyboard.press("Tab")  # the audio choices (each radio group is one stop)
    page.keyboard.press("Tab")  # the button
    button = EN("download.video", quality="720p", ext="MP4")
    assert page.evaluate("document.activeElement.textContent") == button
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    result = probe(saved)
    assert result.video is not None and result.video.height == 720


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_width(open_page: OpenPage, site: FixtureSite, artifacts: Path, scheme: str) -> None:
    page = open_page(width=360, height=780, scheme=scheme)
    no_horizontal_scroll(page)
    shoot(page, artifacts, f"home-360-{scheme}")
    paste(page, site.pages["hls"])
    wait_for_preview(page)
    no_horizontal_scroll(page)
    box = page.locator("#result .card").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    shoot(page, artifacts, f"preview-360-{scheme}")
    page.locator("#url").fill(site.pages["post"])
    page.keyboard.press("Enter")
    expect(page.locator("#result .entries")).to_be_visible()
    wait_for_preview(page)
    no_horizontal_scroll(page)
    shoot(page, artifacts, f"list-360-{scheme}")


def test_turkish(open_page: OpenPage, site: FixtureSite, artifacts: Path) -> None:
    page = open_page(locale="tr-TR")
    assert page.evaluate("document.documentElement.lang") == "tr"
    expect(page.get_by_role("heading", level=1)).to_have_text(TR("hero.title"))
    expect(page.get_by_label(TR("form.label"))).to_be_visible()
    expect(page.get_by_role("button", name=TR("form.submit"))).to_be_visible()
    paste(page, site.pages["hls"])
    wait_for_preview(page)
    expect(page.locator("#status")).to_have_text(TR("status.found", title="Fixture HLS (TS) (1)"))
    expect(
        page.get_by_role("button", name=TR("download.video", quality="1080p", ext="MP4"))
    ).to_be_visible()
    shoot(page, artifacts, "preview-desktop-tr")
    page.locator("#url").fill(UNSUPPORTED)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(TR("error.link.unsupported"))

    page.get_by_role("link", name=EN("lang.name")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(EN("hero.title"))
    page.goto("/")  # the choice is remembered over the browser's Turkish
    expect(page.get_by_role("heading", level=1)).to_have_text(EN("hero.title"))


def test_text_contrast_passes_aa(open_page: OpenPage, site: FixtureSite) -> None:
    for scheme in ("light", "dark"):
        page = open_page(scheme=scheme)
        paste(page, site.pages["hls"])
        wait_for_preview(page)
        failures = page.evaluate(CONTRAST_JS)
        assert failures == [], scheme
        page.locator("#url").fill(UNSUPPORTED)
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_be_visible()
        assert page.evaluate(CONTRAST_JS) == [], scheme


def test_sites_page(open_page: OpenPage, artifacts: Path) -> None:
    page = open_page(path="/sites")
    sites = page.locator(".all-sites > li")  # mediadl's own, then yt-dlp's
    total = sites.count()
    assert total > 1000
    expect(page.locator("#own-sites > li", has_text="BluTV")).to_be_visible()
    page.get_by_label(EN("sitespage.filter")).fill("youtube")
    visible = page.locator(".all-sites > li:not([hidden])")
    expect(visible.filter(has_text=re.compile("^YouTube")).first).to_be_visible()
    assert 0 < visible.count() < 20
    expect(page.locator("#shown")).to_contain_text(f"of {total:,}")
    shoot(page, artifacts, "sites-desktop-light")


CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return parse(getComputedStyle(document.body).backgroundColor);
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const el = text.parentElement;
    if (!text.textContent.trim() || !el.checkVisibility({ opacityProperty: true })) continue;
    if (el.closest('[aria-hidden="true"]') || el.matches('option')) continue;
    const style = getComputedStyle(el);
    const fg = parse(style.color);
    const bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      const what = text.textContent.trim().slice(0, 40);
      failures.push(`${ratio.toFixed(2)} ${el.tagName}.${el.className}: ${what}`);
    }
  }
  return failures;
}
"""


def test_chips_show_their_link_shape_and_statuses_in_words(
    open_page: OpenPage, artifacts: Path
) -> None:
    page = open_page()
    chips = page.locator("#chips > li")
    expect(chips).to_have_count(45)

    vimeo = page.locator("#chips summary", has_text="Vimeo")
    vimeo.focus()
    page.keyboard.press("Enter")  # a disclosure opens from the keyboard
    shape = page.locator("#chips details[open] .site-shape")
    expect(shape).to_be_visible()
    expect(shape).to_have_text("https://vimeo.com/…")
    expect(page.locator("#url")).to_have_attribute("placeholder", "https://vimeo.com/…")
    page.keyboard.press("Escape")
    expect(shape).to_have_count(0)
    assert page.evaluate("document.activeElement.closest('summary').textContent").endswith("Vimeo")

    twitter = page.locator("#chips summary", has_text="Twitter / X")
    expect(twitter).to_contain_text(EN("sites.status.limited"))
    why = twitter.locator(".site-why")
    twitter.hover()
    expect(why).to_be_visible()
    assert why.bounding_box()["width"] > 50  # a readable tooltip, not a 1-pixel clip
    twitter.focus()
    expect(why).to_have_text(EN("sites.limit.public_only"))
    shoot(page, artifacts, "chips-limited-tooltip")

    blutv = page.locator("#chips summary", has_text="BluTV")
    expect(blutv).to_contain_text(EN("sites.status.unavailable"))
    blutv.click()
    reason = page.locator("#chips details[open] .site-reason")
    expect(reason).to_have_text(EN("error.site.drm.blutv"))
    assert page.evaluate(CONTRAST_JS) == []
    shoot(page, artifacts, "chips-unavailable-open")

    page.locator("#url").fill("https://www.blutv.com/dizi/yerli/x/1-sezon/1-bolum")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(EN("error.site.drm.blutv"))


def test_chips_in_turkish(open_page: OpenPage) -> None:
    page = open_page(locale="tr-TR")
    gaana = page.locator("#chips summary", has_text="Gaana")
    expect(gaana).to_contain_text(TR("sites.status.unavailable"))
    gaana.click()
    expect(page.locator("#chips details[open] .site-reason")).to_have_text(
        TR("error.site.subscription.gaana")
    )
    page.locator("#chips summary", has_text="Izlesene").click()
    expect(page.locator("#chips details[open] p").first).to_have_text(TR("sites.example"))
    expect(page.locator("#url")).to_have_attribute(
        "placeholder", "https://www.izlesene.com/video/…/…"
    )
