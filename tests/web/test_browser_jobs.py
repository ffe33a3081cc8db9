"""Jobs from the page, in Chromium, against a real `mediadl serve` with jobs on: save on the
server, follow it in the Jobs view, download the kept file, cancel, retry, remove; an API key
asked once; and no trace of jobs when they are off."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from mediadl.engine.probe import probe
from mediadl.web import catalog
from mediadl_fixtures.server import FixtureSite
from support.server import Server

from .conftest import serving
from .test_browser import no_horizontal_scroll, paste, shoot, wait_for_preview

pytestmark = pytest.mark.slow

EN = catalog("en")
TR = catalog("tr")
LONG = 180_000
"""Milliseconds to wait for a job to end (the machine is shared)."""

OpenPage = Callable[..., Page]


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jobs-downloads")


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[Server]:
    """Jobs on and open to everyone (each test's jobs are found by their link)."""
    folder = tmp_path_factory.mktemp("jobs-web")
    with serving(folder, jobs="true", jobs_open="true", download_dir=str(downloads)) as running:
        yield running


def job_row(page: Page, title: str | re.Pattern[str]) -> Locator:
    return page.locator("#jobs-list > li.job").filter(
        has=page.locator(".job-title", has_text=title)
    )


def save_on_server(page: Page, words: str = EN("jobs.save")) -> None:
    page.locator("#result").get_by_role("button", name=words).click()


def test_save_one_video_on_the_server_and_download_it(
    open_page: OpenPage,
    jobs_server: Server,
    site: FixtureSite,
    downloads: Path,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    page = open_page(server=jobs_server)
    expect(page.get_by_role("heading", name=EN("jobs.title"))).to_be_visible()
    paste(page, site.pages["video"])
    wait_for_preview(page)
    title = page.locator("#media-title").inner_text()
    save_on_server(page)
    expect(page.locator("#status")).to_have_text(EN("jobs.added", title=title))

    row = job_row(page, title).first
    expect(row).to_be_visible()
    expect(row.locator(".job-state")).to_have_text(EN("jobs.state.done"), timeout=LONG)
    shoot(page, artifacts, "jobs-done-desktop-light")
    link = row.get_by_role("link", name=re.compile(r"\.mp4"))
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    job_id = row.get_attribute("data-id")
    [kept] = (downloads / str(job_id)).iterdir()
    assert saved.read_bytes() == kept.read_bytes()
    source = probe(site.media["progressive"])
    got = probe(saved)
    assert got.duration == pytest.approx(source.duration, abs=0.1)
    assert got.video is not None and got.audio is not None

    page.reload()  # the list comes from the server
    expect(job_row(page, title).first.locator(".job-state")).to_have_text(EN("jobs.state.done"))


def test_a_playlist_as_one_job_with_two_chosen_items(
    open_page: OpenPage, jobs_server: Server, site: FixtureSite, downloads: Path
) -> None:
    page = open_page(server=jobs_server)
    page.locator("#settings summary").click()  # the page's settings go with the job
    page.get_by_role("checkbox", name=EN("settings.metadata")).uncheck()  # the sources' bytes
    paste(page, site.pages["feed"])
    wait_for_preview(page)
    page.locator("#result .entries input[type=checkbox]").nth(1).uncheck()  # items 1 and 3
    title = page.locator("#media-title").inner_text()
    save_on_server(page, EN("jobs.save_list", count=2))

    row = job_row(page, title).first
    expect(row.locator(".job-state")).to_have_text(EN("jobs.state.done"), timeout=LONG)
    expect(row.locator(".job-item")).to_have_count(2)
    expect(row.locator(".job-item-title")).to_have_count(2)
    expect(row.get_by_role("link")).to_have_count(2)
    job_id = row.get_attribute("data-id")
    kept = sorted((downloads / str(job_id)).iterdir(), key=lambda p: p.stat().st_size)
    sources = sorted((site.media["clip1"], site.media["clip3"]), key=lambda p: p.stat().st_size)
    assert [p.read_bytes() for p in kept] == [p.read_bytes() for p in sources]


def test_cancel_retry_and_remove_with_the_keyboard(
    open_page: OpenPage,
    jobs_server: Server,
    site: FixtureSite,
    downloads: Path,
    artifacts: Path,
) -> None:
    page = open_page(server=jobs_server, width=360, height=780)
    slow = site.url("video", total_rate=100_000)
    paste(page, slow)
    wait_for_preview(page)
    title = page.locator("#media-title").inner_text()
    download_button = page.locator("#result button[type=submit]")
    download_button.focus()
    page.keyboard.press("Tab")
    expect(page.locator("#result .save-server")).to_be_focused()
    page.keyboard.press("Enter")

    row = job_row(page, title).first
    expect(row.locator(".job-state")).to_have_text(EN("jobs.state.running"), timeout=LONG)
    expect(row.locator(".job-item-text")).to_contain_text(re.compile(r"\d"))  # bytes so far
    shoot(page, artifacts, "jobs-running-phone-light")
    no_horizontal_scroll(page)
    cancel = row.get_by_role("button", name=EN("jobs.cancel"))
    tab_to(page, cancel)
    page.keyboard.press("Enter")
    expect(row.locator(".job-state")).to_have_text(EN("jobs.state.cancelled"))
    expect(cancel).to_be_hidden()
    job_id = str(row.get_attribute("data-id"))
    assert not list(downloads.glob(f"{job_id}/*"))

    retry = row.get_by_role("button", name=EN("jobs.retry"))
    expect(retry).to_be_focused()  # the focus went from the hidden Cancel to the next action
    page.keyboard.press("Enter")
    expect(row.locator(".job-state")).to_have_text(EN("jobs.state.done"), timeout=LONG)
    [kept] = (downloads / job_id).iterdir()
    source = probe(site.media["progressive"])
    assert probe(kept).duration == pytest.approx(source.duration, abs=0.1)

    remove = row.get_by_role("button", name=EN("jobs.remove"))
    tab_to(page, remove)
    page.keyboard.press("Enter")
    expect(row.locator(".job-question")).to_have_text(EN("jobs.remove.confirm"))
    keep = row.get_by_role("button", name=EN("jobs.remove.no"))
    expect(keep).to_be_focused()
    page.keyboard.press("Enter")  # changed my mind
    expect(row.locator(".job-question")).to_be_hidden()
    assert (downloads / job_id).exists()
    tab_to(page, remove)
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")  # from Keep back to Yes, remove
    expect(row.get_by_role("button", name=EN("jobs.remove.yes"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f'#jobs-list > li[data-id="{job_id}"]')).to_have_count(0)
    assert not (downloads / job_id).exists()
    page.reload()  # the list read again from the server: the other tests' jobs, or none
    expect(page.locator("#jobs-empty:visible, #jobs-list > li.job").first).to_be_visible()
    expect(page.locator(f'#jobs-list > li[data-id="{job_id}"]')).to_have_count(0)


def tab_to(page: Page, target: Locator, most: int = 80) -> None:
    """Press Tab until ``target`` has the focus (fails if it never does: not reachable)."""
    for _ in range(most):
        if target.evaluate("node => node === document.activeElement"):
            return
        page.keyboard.press("Tab")
    pytest.fail("not reachable with Tab")


def test_turkish_words(open_page: OpenPage, jobs_server: Server, site: FixtureSite) -> None:
    page = open_page(server=jobs_server, locale="tr-TR")
    expect(page.get_by_role("heading", name=TR("jobs.title"))).to_be_visible()
    paste(page, site.pages["audio"])
    wait_for_preview(page)
    title = page.locator("#media-title").inner_text()
    save_on_server(page, TR("jobs.save"))
    expect(page.locator("#status")).to_have_text(TR("jobs.added", title=title))
    row = job_row(page, title).first
    expect(row.locator(".job-state")).to_have_text(TR("jobs.state.done"), timeout=LONG)
    expect(row.get_by_role("button", name=TR("jobs.remove"))).to_be_visible()
    expect(row.get_by_role("link", name=re.compile("^İndir: "))).to_be_visible()


def test_a_key_is_asked_once_and_a_wrong_one_is_said(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path, artifacts: Path
) -> None:
    good = str(uuid.uuid4())
    with serving(
        tmp_path, jobs="true", api_keys=good, download_dir=str(tmp_path / "downloads")
    ) as private:
        page = open_page(server=private)
        expect(page.locator("#jobs-key")).to_contain_text(EN("jobs.key.needed"))
        paste(page, site.pages["audio"])
        wait_for_preview(page)
        title = page.locator("#media-title").inner_text()
        save_on_server(page)

        dialog = page.get_by_role("dialog", name=EN("jobs.key.title"))
        expect(dialog).to_be_visible()
        expect(page.locator("#key-input")).to_be_focused()
        page.keyboard.type(str(uuid.uuid4()))  # a key this server doesn't know
        page.keyboard.press("Enter")
        expect(dialog.get_by_role("alert")).to_have_text(EN("error.auth.invalid"))
        shoot(page, artifacts, "jobs-wrong-key-desktop-light")
        page.locator("#key-input").fill(good)
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        expect(page.locator("#status")).to_have_text(EN("jobs.added", title=title))
        row = job_row(page, title).first
        expect(row.locator(".job-state")).to_have_text(EN("jobs.state.done"), timeout=LONG)

        page.reload()  # the key was kept: no question, the list is there
        expect(job_row(page, title).first).to_be_visible()
        expect(page.locator("#jobs-key")).to_be_hidden()
        with page.expect_download() as info:
            job_row(page, title).first.get_by_role("link").click()
        assert info.value.failure() is None

        page.get_by_role("button", name=EN("jobs.key.forget")).click()
        expect(page.locator("#jobs-key")).to_be_visible()
        expect(page.locator("#jobs-list > li")).to_have_count(0)


def test_no_jobs_when_they_are_off(open_page: OpenPage, site: FixtureSite) -> None:
    page = open_page()
    expect(page.locator("#jobs")).to_have_count(0)
    expect(page.get_by_role("link", name=EN("jobs.open_view"))).to_have_count(0)
    paste(page, site.pages["video"])
    wait_for_preview(page)
    expect(page.get_by_role("button", name=EN("jobs.save"))).to_have_count(0)
    assert (
        page.evaluate(
            "Object.keys(JSON.parse(document.getElementById('messages').textContent))"
        ).count("jobs.save")
        == 0
    )


def test_a_full_downloads_folder_is_said_without_try_again(
    open_page: OpenPage, site: FixtureSite, tmp_path: Path
) -> None:
    """The quota refuses the job; trying the same again can't help, so no "Try again"."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "kept.bin").write_bytes(b"x" * 4096)
    with serving(
        tmp_path, jobs="true", jobs_open="true", download_dir=str(folder), download_quota="1024"
    ) as full:
        page = open_page(server=full)
        paste(page, site.pages["video"])
        wait_for_preview(page)
        save_on_server(page)
        problem = page.locator("#problem")
        expect(problem.locator("#problem-text")).to_have_text(EN("error.jobs.quota"))
        expect(problem.get_by_role("button", name=EN("error.retry"))).to_be_hidden()
        assert [p.name for p in folder.iterdir()] == ["kept.bin"]
