"""The rough edges a person hits on the page, in Chromium: cancelling in the browser, which button
does what, progress in plain words, focus and forced colours, links that come from the address or
the clipboard, file names, messages that help, and settings kept in the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from mediadl.engine.probe import probe
from mediadl_fixtures.server import FixtureSite
from support.server import free_port

from .conftest import OpenPage
from .test_browser import EN, TR, download, paste, wait_for_preview

pytestmark = pytest.mark.slow

SUBMIT = "#result button[type=submit]"

RECORD_JS = """
() => {
  window.seen = [];
  const note = () => {
    const bar = document.querySelector('#result .transfer progress');
    const doing = document.querySelector('#result .transfer-doing');
    const text = document.querySelector('#result .transfer-text');
    if (!bar || !text) return;
    window.seen.push({
      doing: doing ? doing.textContent : '',
      text: text.textContent,
      value: bar.hasAttribute('value') ? bar.value : null,
    });
  };
  new MutationObserver(note).observe(document.getElementById('result'),
    { subtree: true, childList: true, characterData: true, attributes: true });
}
"""


def record_transfer(page: Page) -> None:
    """From now on, every look of the transfer box goes into ``window.seen``."""
    page.evaluate(RECORD_JS)


def seen(page: Page) -> list[dict[str, object]]:
    return list(page.evaluate("window.seen"))


def choose(page: Page, name: str | re.Pattern[str]) -> None:
    page.locator("#result").get_by_role("radio", name=name).check()


# 1 -------------------------------------------------------------------------------------------


def test_a_download_cancelled_in_the_browser_says_cancelled_and_frees_the_page(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path
) -> None:
    page = open_page()
    paste(page, site.url("video", total_rate=200_000))  # ~3 MB: about fifteen seconds
    wait_for_preview(page)
    button = page.locator(SUBMIT)
    with page.expect_download() as info:
        button.click()
    expect(page.locator("#result .transfer-text")).to_contain_text(" of ")
    info.value.cancel()

    problem = page.get_by_role("alert")
    expect(problem).to_contain_text(EN("error.cancelled"))
    expect(button).not_to_have_attribute("aria-disabled", "true")
    expect(problem.get_by_role("button", name=EN("error.retry"))).to_be_visible()

    paste(page, site.pages["audio"])  # ready for the next link
    wait_for_preview(page)
    expect(problem).to_be_hidden()
    got, saved = download(page, re.compile(f"^{EN('download.audio', format='')}"), tmp_path)
    assert probe(saved).audio is not None
    expect(page.locator("#status")).to_have_text(EN("status.done", filename=got.suggested_filename))


# 2 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (360, 780)])
def test_the_read_button_says_read_and_the_download_button_comes_into_view(
    open_page: OpenPage, site: FixtureSite, width: int, height: int
) -> None:
    page = open_page(width=width, height=height)
    read = page.locator("#go")
    expect(read).to_have_accessible_name(EN("form.submit"))
    assert EN("form.submit") != EN("download.video", quality="", ext="").split()[0]
    page.locator("#url").fill(site.pages["hls"])
    read.click()
    wait_for_preview(page)
    button = page.locator(SUBMIT)
    expect(button).to_have_text(EN("download.video", quality="1080p", ext="MP4"))
    expect(button).to_be_in_viewport(ratio=1)
    assert page.evaluate("document.activeElement.id") == "media-title"


# 3 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pick", "mute", "doing"),
    [
        ("^MP3", False, EN("status.doing.audio_convert", format="MP3")),
        ("^Opus", False, EN("status.doing.audio_convert", format="Opus")),
        ("720p", True, EN("status.doing.mute")),
        ("720p", False, EN("status.doing.join", ext="MP4")),
    ],
)
def test_progress_says_what_happens_in_readable_units(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, pick: str, mute: bool, doing: str
) -> None:
    page = open_page()
    paste(page, site.url("hls", total_rate=400_000))
    wait_for_preview(page)
    choose(page, re.compile(pick))
    if mute:
        page.locator("#result").get_by_role("checkbox", name=EN("choice.mute")).check()
    record_transfer(page)
    with page.expect_download() as info:
        page.locator(SUBMIT).click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    done = EN("status.done", filename=info.value.suggested_filename)
    expect(page.locator("#status")).to_have_text(done)

    states = seen(page)
    moving = [s for s in states if re.search(r" so far| of ", str(s["text"]))]
    assert moving, states
    assert all(s["doing"] == doing for s in moving), states
    texts = " | ".join(f"{s['doing']} {s['text']}" for s in states)
    assert "Joining" not in texts or doing.startswith("Putting")
    assert not re.search(r"\bbytes?\b|\b0 [kMG]?B/s", texts), texts
    assert re.search(r"\d (kB|MB)", texts), texts
    # the size is an estimate while ffmpeg works: no bar that jumps at the end, no "about"
    assert all(s["value"] is None for s in moving), states
    assert "about" not in texts
    result = probe(saved)
    assert (result.video is None) == pick.startswith("^")
    assert (result.audio is None) == mute


def test_small_sizes_and_speeds_read_as_kilobytes(open_page: OpenPage) -> None:
    page = open_page()
    words = page.evaluate(
        """async () => {
          const href = document.querySelector('link[href$="/i18n.js"]').href;
          const { bytes, speed } = await import(href);
          return [bytes(148), bytes(0), speed(0), speed(900), bytes(6_600_000)];
        }"""
    )
    assert words == ["0.1 kB", "0 kB", "0 kB/s", "0.9 kB/s", "6.6 MB"]


# 4 -------------------------------------------------------------------------------------------


def test_audio_choices_by_tab_and_focus_stays_on_the_button(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path
) -> None:
    page = open_page()
    paste(page, site.pages["hls"])
    wait_for_preview(page)
    assert page.evaluate("document.activeElement.id") == "media-title"
    stops = []
    for _ in range(4):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("[document.activeElement.type, document.activeElement.name]"))
    assert stops == [["radio", "video"], ["checkbox", "mute"], ["radio", "audio"], ["submit", ""]]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked")
    assert page.locator("#result input[name=video]:checked").count() == 0
    page.keyboard.press("Tab")
    label = page.evaluate("document.activeElement.textContent")
    assert label.startswith(EN("download.audio", format="").strip())
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    info.value.save_as(tmp_path / info.value.suggested_filename)
    expect(page.locator("#status")).to_have_text(
        EN("status.done", filename=info.value.suggested_filename)
    )
    assert page.evaluate("document.activeElement.getAttribute('type')") == "submit"
    expect(page.locator(SUBMIT)).to_be_focused()


def test_forced_colors_show_the_choice_and_the_buttons(
    open_page: OpenPage, site: FixtureSite, artifacts: Path
) -> None:
    page = open_page(forced_colors="active")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    paste(page, site.pages["hls"])
    wait_for_preview(page)
    look = """el => { const s = getComputedStyle(el);
      return [s.backgroundColor, s.borderTopColor, s.borderTopWidth, s.borderTopStyle]; }"""
    chosen = page.locator("#result .opt:has(input:checked)").evaluate(look)
    other = page.locator("#result .opt:not(:has(input:checked))").first.evaluate(look)
    assert chosen[0] != other[0], (chosen, other)
    for selector in ("#go", SUBMIT):
        _, _, width, style = page.locator(selector).evaluate(look)
        assert style != "none" and float(width.removesuffix("px")) >= 1, selector
    page.screenshot(path=artifacts / "preview-forced-colors.png", full_page=True)


# 5 -------------------------------------------------------------------------------------------


def test_paste_replaces_the_link_and_clear_and_paste_buttons(
    open_page: OpenPage, site: FixtureSite
) -> None:
    page = open_page()
    field = page.locator("#url")
    paste(page, site.pages["hls"])
    wait_for_preview(page)
    field.press("End")
    paste(page, site.pages["audio"])  # a second link replaces the first
    expect(field).to_have_value(site.pages["audio"])
    expect(page.locator("#media-title")).not_to_have_text(re.compile("HLS"))

    page.get_by_role("button", name=EN("form.clear")).click()
    expect(field).to_have_value("")
    expect(field).to_be_focused()
    expect(page.locator("#result")).to_be_hidden()
    assert "url=" not in page.url

    page.evaluate("text => navigator.clipboard.writeText(text)", f"look: {site.pages['video']}")
    page.get_by_role("button", name=EN("form.paste")).click()
    expect(field).to_have_value(site.pages["video"])
    wait_for_preview(page)


@pytest.mark.parametrize("shape", ["query", "hash", "share"])
def test_a_link_in_the_address_is_read(open_page: OpenPage, site: FixtureSite, shape: str) -> None:
    link = site.pages["hls"]
    path = {
        "query": f"/?url={quote(link, safe='')}",
        "hash": f"/#{link}",
        "share": f"/?title=Clip&text={quote('Watch this ' + link, safe='')}",
    }[shape]
    page = open_page(path=path)
    expect(page.locator("#url")).to_have_value(link)
    wait_for_preview(page)
    expect(page.locator("#media-title")).to_have_text("Fixture HLS (TS) (1)")


def test_the_manifest_offers_a_share_target(open_page: OpenPage) -> None:
    page = open_page()
    href = page.locator("link[rel=manifest]").evaluate("link => link.href")
    answer = page.request.get(href)
    assert answer.ok
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(answer.text())
    share = manifest["share_target"]
    assert share["action"] == "/" and share["method"] == "GET"
    assert share["params"]["url"] == "url" and share["params"]["text"] == "text"
    assert manifest["start_url"] == "/"
    icon = page.request.get(page.evaluate("h => new URL('icon.svg', h).href", href))
    assert icon.ok


def test_refresh_back_and_language_keep_the_link_and_the_choice(
    open_page: OpenPage, site: FixtureSite
) -> None:
    page = open_page()
    link = site.pages["hls"]
    paste(page, link)
    wait_for_preview(page)
    choose(page, re.compile("720p"))

    page.reload()
    expect(page.locator("#url")).to_have_value(link)
    wait_for_preview(page)
    expect(page.get_by_role("radio", name=re.compile("720p"))).to_be_checked()

    page.get_by_role("link", name=EN("sites.all")).click()
    expect(page).to_have_url(re.compile("/sites"))
    page.go_back()
    expect(page.locator("#url")).to_have_value(link)
    wait_for_preview(page)
    expect(page.get_by_role("radio", name=re.compile("720p"))).to_be_checked()

    page.get_by_role("link", name=TR("lang.name")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TR("hero.title"))
    expect(page.locator("#url")).to_have_value(link)
    wait_for_preview(page)
    expect(page.get_by_role("radio", name=re.compile("720p"))).to_be_checked()


# 6 -------------------------------------------------------------------------------------------


def test_file_names_carry_the_quality_and_list_items_their_titles(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path
) -> None:
    page = open_page()
    paste(page, site.pages["hls"])
    wait_for_preview(page)
    names = []
    for quality in ("720p", "360p"):
        choose(page, re.compile(quality))
        got, saved = download(page, EN("download.video", quality=quality, ext="MP4"), tmp_path)
        names.append(got.suggested_filename)
        height = probe(saved).video
        assert height is not None and f"{height.height}p" == quality
        expect(page.locator("#status")).to_have_text(
            EN("status.done", filename=got.suggested_filename)
        )
    assert names == ["Fixture HLS (TS) (1) (720p).mp4", "Fixture HLS (TS) (1) (360p).mp4"]

    paste(page, site.pages["post"])
    wait_for_preview(page)
    page.get_by_role("checkbox", name=EN("list.select_all")).uncheck()
    page.locator("#result .entries input[type=checkbox]").nth(1).check()
    got, saved = download(page, EN("list.download", count=1), tmp_path)
    title = page.locator("#result .entry-title").nth(1).inner_text()
    assert title == "Fixture post with two videos (2)"
    assert re.fullmatch(re.escape(title) + r"( \(\d+p\))?\.mp4", got.suggested_filename)
    assert saved.read_bytes() == site.media["clip2"].read_bytes()


# 7 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "words", "retry"),
    [
        ("not a link at all", EN("error.link.invalid"), False),
        ("nomedia", EN("error.content.no_media"), False),
        ("ftp://example.com/video.mp4", EN("error.link.unsupported"), False),
        ("unreachable", EN("error.fetch.unreachable"), True),
    ],
)
def test_try_again_only_where_it_can_help(
    open_page: OpenPage, site: FixtureSite, link: str, words: str, retry: bool
) -> None:
    page = open_page()
    if link == "unreachable":
        link = f"http://127.0.0.2:{free_port()}/pages/video.html"  # nothing listens there
    page.locator("#url").fill(site.pages.get(link, link))
    page.keyboard.press("Enter")
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text(words)
    again = problem.get_by_role("button", name=EN("error.retry"))
    if retry:
        expect(again).to_be_visible()
    else:
        expect(again).to_be_hidden()


# 8 -------------------------------------------------------------------------------------------


def test_settings_are_kept_in_the_browser_and_used(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, artifacts: Path
) -> None:
    page = open_page()
    page.get_by_text(EN("settings.title"), exact=True).click()
    page.get_by_label(EN("settings.quality")).select_option("480")
    page.get_by_label(EN("settings.audio")).select_option("opus")
    page.get_by_label(EN("settings.name")).select_option("title")
    page.get_by_label(EN("settings.metadata")).uncheck()
    page.screenshot(path=artifacts / "settings-desktop-light.png", full_page=True)

    page.reload()  # kept in the browser
    page.get_by_text(EN("settings.title"), exact=True).click()
    expect(page.get_by_label(EN("settings.quality"))).to_have_value("480")
    expect(page.get_by_label(EN("settings.metadata"))).not_to_be_checked()

    paste(page, site.pages["hls"])
    wait_for_preview(page)
    # 480p asked, the nearest not above it offered (1080p, 720p, 360p)
    expect(page.get_by_role("radio", name=re.compile("360p"))).to_be_checked()
    got, saved = download(page, EN("download.video", quality="360p", ext="MP4"), tmp_path)
    assert got.suggested_filename == "Fixture HLS (TS) (1).mp4"
    result = probe(saved)
    assert result.video is not None and result.video.height == 360
    assert "title" not in {key.lower() for key in result.tags}

    paste(page, site.pages["audio"])
    wait_for_preview(page)
    expect(page.get_by_role("radio", name=re.compile("^Opus"))).to_be_checked()
