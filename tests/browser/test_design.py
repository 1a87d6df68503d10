"""What only a browser shows of the design: colour schemes, print, the small enhancements and their absence."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import make_document, make_excerpt, make_mission

from .pages import primary

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def luminance(page, selector, property):
    """Relative luminance (0 black, 1 white) of a colour the page computes, as WCAG defines it."""
    channels = page.evaluate(
        "([selector, property]) => getComputedStyle(document.querySelector(selector))[property]"
        ".match(/[\\d.]+/g).slice(0, 3).map(Number)",
        [selector, property],
    )
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_colour_scheme_follows_the_system_setting(page, live_server):
    page.goto(reverse("observers:home"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for scheme in ["light", "dark"]:
        page.emulate_media(color_scheme=scheme)
        background, text = luminance(page, "html", "backgroundColor"), luminance(page, "body", "color")
        if scheme == "dark":
            assert background < 0.05 and text > 0.5
        else:
            assert text < 0.05 and background > 0.5
        assert (max(background, text) + 0.05) / (min(background, text) + 0.05) >= 7, f"{scheme}: contrast under 7:1"


def test_print_shows_the_citation_not_the_controls(page, live_server):
    mission = make_mission(status="published")
    document = make_document(publisher=mission.organisation, status="published")
    excerpt = make_excerpt(
        mission=mission,
        document=document,
        text="A passage long enough to need its whole citation box on paper. " * 3,
        page="12",
        status="published",
    )
    # Printed from a screen in the dark scheme: dark ink on white paper all the same.
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 760, "height": 1000})
    page.goto(excerpt.get_absolute_url())
    expect(page.locator(".copy-button")).to_be_visible()
    page.emulate_media(media="print", color_scheme="dark")
    for hidden in [".site-header", ".site-footer", ".skip-link", ".copy-button", ".permalink"]:
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator(".excerpt blockquote")).to_contain_text("A passage long enough")
    expect(page.locator(".excerpt .attribution")).to_contain_text(mission.organisation.short_name)
    expect(page.locator(".excerpt .attribution")).to_contain_text("p. 12")
    citation = page.get_by_label("Citation (plain text)")
    expect(citation).to_be_visible()
    # The whole citation is on paper: the box grows to its text.
    assert page.evaluate("element => element.scrollHeight <= element.clientHeight + 1", citation.element_handle())
    assert luminance(page, "html", "backgroundColor") > 0.95
    for selector in ["body", ".excerpt blockquote", ".excerpt figcaption", ".badge"]:
        assert 1.05 / (luminance(page, selector, "color") + 0.05) >= 4.5, f"{selector}: too pale on paper"


def test_small_enhancements_and_the_site_without_them(page, browser, live_server, demo):
    page.goto(reverse("observers:excerpt_list"))
    # Stance and fidelity are words, not colours alone.
    for text in page.locator(".results .badge").all_inner_texts():
        assert any(c.isalpha() for c in text), "a badge without words"
    expect(page.locator(".results .badge", has_text="Fidelity: Selective")).to_have_count(1)

    # A long facet list shows five values and a button for the others.
    facet = page.locator(".facet").filter(has=page.get_by_role("heading", name="Topic"))
    items = facet.locator("li")
    total = items.count()
    assert total > 5
    button = facet.locator(".facet-more")
    expect(button).to_have_accessible_name(f"Show {total - 5} more (Topic)")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(items.locator("visible=true")).to_have_count(5)
    button.click()
    expect(items.locator("visible=true")).to_have_count(total)
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(button).to_have_accessible_name("Show fewer (Topic)")
    button.click()
    expect(items.locator("visible=true")).to_have_count(5)
    page.goto(primary().get_absolute_url())
    expect(page.get_by_role("button", name="Copy citation")).to_be_visible()

    # Without JavaScript: every facet value listed, no buttons, and search and citations work.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto(reverse("observers:excerpt_list"))
    facet = page.locator(".facet").filter(has=page.get_by_role("heading", name="Topic"))
    expect(facet.locator("li").locator("visible=true")).to_have_count(total)
    expect(page.locator(".facet-more")).to_have_count(0)
    page.get_by_label("Search excerpts").fill("voters")
    page.get_by_label("Search excerpts").press("Enter")
    expect(page.locator(".summary")).to_have_text("3 excerpts matching “voters”")
    page.goto(primary().get_absolute_url())
    expect(page.locator(".copy-button")).to_be_hidden()
    expect(page.get_by_label("Citation (plain text)")).to_be_visible()
    context.close()
