"""The report in a real browser: headless Chromium (the distribution's) opens report/index.html from a file:// URL.

Checks: no console error or page error, no request leaves the file system, every image has loaded
(naturalWidth > 0), every internal link and anchor resolves. Saves desktop and phone screenshots in the
test's temporary folder, and also in $ALSMETA_SCREENSHOT_DIR when set (to look at them).
Skipped only when /usr/bin/chromium is absent; CI installs it (.ci/run). Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urldefrag

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed (CI installs Debian's chromium)"
)

LINKS_JS = """() => Array.from(document.querySelectorAll('a[href], img[src]'))
    .map(e => e.href || e.src).filter(u => u.startsWith('file:'))"""
IMAGES_JS = (
    """() => Array.from(document.images).map(i => ({src: i.currentSrc, ok: i.complete && i.naturalWidth > 0}))"""
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str, viewport: dict, problems: list[str]):
    page = browser.new_page(viewport=viewport)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))

    def only_files(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            problems.append(f"network request: {route.request.url}")
            route.abort()

    page.route("**/*", only_files)
    page.goto(url, wait_until="load")
    return page


def _save(page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / f"report_{name}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000, f"{name} screenshot looks empty"
    if os.environ.get("ALSMETA_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["ALSMETA_SCREENSHOT_DIR"]) / shot.name)


def _fits(page, viewport: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"], f"{page.url} scrolls sideways at {viewport} width ({width} px)"


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_report_loads_cleanly_with_every_image(browser, report_index, tmp_path, viewport):
    problems: list[str] = []
    page = _open(browser, report_index.as_uri(), VIEWPORTS[viewport], problems)
    images = page.evaluate(IMAGES_JS)
    assert len(images) >= 40
    assert [i["src"] for i in images if not i["ok"]] == []
    _fits(page, viewport)
    _save(page, tmp_path, viewport)
    page.evaluate("() => document.getElementById('sof').scrollIntoView()")
    _save(page, tmp_path, f"{viewport}_summary_of_findings")
    provenance = _open(browser, (report_index.parent / "provenance.html").as_uri(), VIEWPORTS[viewport], problems)
    _fits(provenance, viewport)
    provenance.evaluate("() => document.getElementById('outcomes-L2').scrollIntoView()")
    _save(provenance, tmp_path, f"{viewport}_provenance")
    assert problems == []


def test_every_internal_link_and_anchor_resolves(browser, report_index):
    problems: list[str] = []
    index = _open(browser, report_index.as_uri(), VIEWPORTS["desktop"], problems)
    links = index.evaluate(LINKS_JS)
    ids_by_page: dict[str, set[str]] = {}
    for url in sorted({urldefrag(u).url for u in links}):
        target = Path(url.removeprefix("file://"))
        assert target.is_file(), f"link to a missing file: {url}"
        if target.suffix == ".html":
            page = index if target == report_index else _open(browser, url, VIEWPORTS["desktop"], problems)
            ids_by_page[url] = set(page.evaluate("() => Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
    unresolved = [
        u for u in links if urldefrag(u).fragment and urldefrag(u).fragment not in ids_by_page[urldefrag(u).url]
    ]
    assert len(links) > 300 and unresolved == []
    assert problems == []
