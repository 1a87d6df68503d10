"""Accessibility in a real browser: axe-core at WCAG 2.1 A and AA, and a keyboard-only journey."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from observers.models import Excerpt

from .pages import CLAIM_TEXT, PUBLIC_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
WIDTHS = {"desktop": 1280, "phone": 360}
SCHEMES = ["light", "dark"]
# The admin's autocomplete widget is select2, which Django ships as it is (admin/js/vendor/select2): its
# search box has no label, its list of chosen values holds a <span>, and an empty single choice names
# nothing. The project cannot change that markup, so these rules are skipped on select2's own elements,
# and only there.
SELECT2_RULES = {"label", "list", "aria-input-field-name"}

AXE_SCRIPT = Axe().axe_script


def violations(page, ignore_select2=False):
    """axe's violations on the page as it is, in words: one line per rule and element."""
    # Injected once per page load, then run as Axe().run() would, with our options.
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    found = []
    for violation in page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            if ignore_select2 and violation["id"] in SELECT2_RULES and "select2" in target:
                continue
            found.append(f"{violation['id']} ({violation['impact']}) at {target}: {node['failureSummary']}")
    return found


def violations_everywhere(page, address, ready, ignore_select2=False):
    """Violations of the page at `address` at both widths and in both colour schemes."""
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
    page.emulate_media(color_scheme=SCHEMES[0])
    page.goto(address)
    expect(ready(page)).to_be_visible()
    found = []
    for width_name, width in WIDTHS.items():
        for scheme in SCHEMES:
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            # The admin's colours change with a CSS transition: measure them once it has ended.
            page.wait_for_function("() => document.getAnimations().length === 0")
            found += [f"[{width_name}, {scheme}] {line}" for line in violations(page, ignore_select2)]
    return found


def test_every_public_page_type_has_no_axe_violations(page, demo):
    # One test for all page types: loading the demo data once keeps the suite fast; the message names
    # every page, width and scheme with a violation.
    found = []
    for page_type, address in PUBLIC_PAGES.items():
        found += [f"{page_type}: {line}" for line in violations_everywhere(page, address(), heading)]
    assert not found, "\n".join(found)


def heading(page):
    return page.locator("h1")


@pytest.fixture
def publisher(django_user_model):
    user = django_user_model.objects.create_user("pat_publisher", password="a passphrase", is_staff=True)
    user.groups.add(Group.objects.get(name="Publisher"))
    return user


def test_customised_admin_pages_have_no_axe_violations(page, demo, publisher):
    # A characterisation waiting for review: the desk lists it and its form shows the workflow buttons.
    claim = Excerpt.objects.get(text__contains=CLAIM_TEXT)
    claim.transition("unpublish", publisher)
    claim.transition("submit", publisher)
    page.goto(reverse("admin:login"))
    page.get_by_label("Username").fill(publisher.username)
    page.get_by_label("Password").fill("a passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("admin:index")) + "$"))

    admin_pages = {
        "admin index": (reverse("admin:index"), lambda page: page.get_by_role("link", name="Editorial desk")),
        "editorial desk": (
            reverse("editorial_desk"),
            lambda page: page.get_by_role("heading", name="Excerpts waiting for review (1)"),
        ),
        "excerpt change form": (
            reverse("admin:observers_excerpt_change", args=[claim.pk]),
            lambda page: page.get_by_role("button", name="Publish", exact=True),
        ),
        "history": (
            reverse("admin:observers_excerpt_history", args=[claim.pk]),
            lambda page: page.locator("#change-history").get_by_text("Submit for review"),
        ),
    }
    found = []
    for name, (address, ready) in admin_pages.items():
        found += [f"{name}: {line}" for line in violations_everywhere(page, address, ready, ignore_select2=True)]
    assert not found, "\n".join(found)


def focus_ring(page):
    """The focused element's outline, as drawn: (style, width in px)."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )


def tab_to(page, locator, limit=80):
    """Press Tab until `locator` has the focus; every element on the way shows a visible focus ring."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("element => element === document.activeElement", target):
            break
        style, width = focus_ring(page)
        tag = page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)")
        assert style != "none" and width >= 2, f"No visible focus on {tag}"
    else:
        raise AssertionError(f"{locator} is not reachable with Tab")
    style, width = focus_ring(page)
    assert style != "none" and width >= 2


def test_keyboard_only_search_and_filter(page, demo):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    style, width = focus_ring(page)
    assert style != "none" and width >= 2
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    search = page.get_by_label("Search what observers said")
    tab_to(page, search)
    page.keyboard.type("voters")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/excerpts/\?q=voters$"))
    summary = page.locator(".summary")
    expect(summary).to_have_text("3 excerpts matching “voters”")

    details = page.locator("details.filters")
    tab_to(page, details.locator("summary"))
    if details.get_attribute("open") is not None:
        page.keyboard.press("Enter")
        expect(details).not_to_have_attribute("open", "")
    page.keyboard.press("Enter")
    expect(details).to_have_attribute("open", "")

    stance = details.get_by_label("Stance")
    tab_to(page, stance)
    for _ in range(len(Excerpt.Stance)):
        if stance.input_value() == "critical":
            break
        page.keyboard.press("ArrowDown")
    expect(stance).to_have_value("critical")
    tab_to(page, details.get_by_role("button", name="Apply filters"))
    page.keyboard.press("Enter")
    expect(summary).to_have_text("2 critical excerpts matching “voters”")
    assert "stance=critical" in page.url and "q=voters" in page.url
    expect(page.locator(".results .excerpt")).to_have_count(2)
    expect(page.locator(".results .excerpt .badge--critical")).to_have_count(2)
