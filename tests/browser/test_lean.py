"""Lean pages: every public page type, loaded afresh, is small, served by the site alone, and holds still."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .pages import PUBLIC_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MAX_BYTES = 200 * 1024
MAX_LAYOUT_SHIFT = 0.01
WIDTHS = [1280, 360]
# Adds up the page's Cumulative Layout Shift as the browser reports it, from before the first byte.
MEASURE_LAYOUT_SHIFT = """
window.layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.layoutShift += entry.value;
  }
}).observe({type: "layout-shift", buffered: true});
"""


def first_loads(browser, base_url, width):
    """A page of the given width whose every load is a first load: the browser's cache is off."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 800})
    context.add_init_script(MEASURE_LAYOUT_SHIFT)
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("Network.enable")
    devtools.send("Network.setCacheDisabled", {"cacheDisabled": True})
    return page


def load(page, address):
    """Load the page; return (url, kind, body size, status) of everything it fetched, and its layout shift."""
    requests, failed = [], []
    on_finished, on_failed = (lambda request: requests.append(request)), (lambda request: failed.append(request))
    page.on("requestfinished", on_finished)
    page.on("requestfailed", on_failed)
    try:
        page.goto(address, wait_until="load")
        expect(page.locator("h1")).to_be_visible()
        # Two frames after the load event: anything the page's own script moves has moved by then.
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        shift = page.evaluate("() => window.layoutShift")
    finally:
        page.remove_listener("requestfinished", on_finished)
        page.remove_listener("requestfailed", on_failed)
    # Chromium fetches the favicon on its own and may abort that fetch when the page has already
    # finished loading (seen on a busy CI machine): that says nothing about the site.
    failed = [r for r in failed if not (r.url.endswith("/favicon.svg") and r.failure == "net::ERR_ABORTED")]
    assert not failed, f"{address}: requests failed: {[(request.url, request.failure) for request in failed]}"
    fetched = [
        (request.url, request.resource_type, request.sizes()["responseBodySize"], request.response().status)
        for request in requests
    ]
    return fetched, shift


def test_every_public_page_is_lean_self_hosted_and_still(browser, live_server, many_excerpts):
    server = urlsplit(live_server.url).netloc
    addresses = {page_type: address() for page_type, address in PUBLIC_PAGES.items()}
    problems, report = [], dict.fromkeys(addresses, "")
    for width in WIDTHS:
        page = first_loads(browser, live_server.url, width)
        for page_type, address in addresses.items():
            fetched, shift = load(page, address)
            total = sum(size for _, _, size, _ in fetched)
            elsewhere = [url for url, _, _, _ in fetched if urlsplit(url).netloc != server]
            broken = [(url, status) for url, kind, _, status in fetched if status >= 400 and kind != "document"]
            kinds = {}
            for _, kind, size, _ in fetched:
                kinds[kind] = kinds.get(kind, 0) + size
            report[page_type] += f"  {width} px: {total / 1024:5.1f} KB {kinds}, CLS {shift:.4f}"
            if total > MAX_BYTES:
                problems.append(f"{page_type} at {width} px transfers {total / 1024:.0f} KB")
            if elsewhere:
                problems.append(f"{page_type} fetches from elsewhere: {elsewhere}")
            if broken:
                problems.append(f"{page_type} asks for missing assets: {broken}")
            if shift >= MAX_LAYOUT_SHIFT:
                problems.append(f"{page_type} at {width} px shifts its layout: CLS {shift:.4f}")
        page.context.close()
    print("\n" + "\n".join(f"{page_type:30}{line}" for page_type, line in report.items()))
    assert not problems, "\n".join(problems)
