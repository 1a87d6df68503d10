"""The public's and the editors' journeys, in a real browser against the running site."""

import csv
import datetime
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from observers.models import Document, Excerpt, Mission, Organisation
from observers.views import ExcerptListView

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "a passphrase for browser tests"
ELECTION_2016 = "Kazakhstan parliamentary (Mazhilis), 20 March 2016"


def test_search_filter_facet_next_page_and_export(page, many_excerpts):
    page.goto("/")
    page.get_by_label("Search what observers said").fill("synthetic")
    page.get_by_label("Search what observers said").press("Enter")
    expect(page).to_have_url(re.compile(r"/excerpts/\?q=synthetic$"))
    summary = page.locator(".summary")
    expect(summary).to_have_text(f"{many_excerpts + 7} excerpts matching “synthetic”")

    filters = page.locator("details.filters")
    if filters.get_attribute("open") is None:
        filters.locator("summary").click()
    filters.get_by_label("Stance").select_option(label="Critical")
    filters.get_by_role("button", name="Apply filters").click()
    expect(summary).to_have_text(f"{many_excerpts + 2} critical excerpts matching “synthetic”")

    facet = page.locator(".facets .facet").filter(has=page.get_by_role("heading", name="Topic"))
    facet.get_by_role("link", name="Voting").click()
    expect(summary).to_have_text(f"{many_excerpts} critical excerpts on voting matching “synthetic”")
    expect(page.locator(".results .excerpt")).to_have_count(ExcerptListView.paginate_by)

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()
    # "Next" continues after the last row shown (keyset pagination), keeping every filter.
    expect(page).to_have_url(re.compile(r"[?&]after=\d+"))
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Continued list")
    for parameter in ("q=synthetic", "stance=critical", "topic=voting"):
        assert parameter in page.url
    expect(summary).to_have_text(f"{many_excerpts} critical excerpts on voting matching “synthetic”")
    expect(page.locator(".results .excerpt")).to_have_count(3)
    expect(page.locator(".results .excerpt .badge--critical")).to_have_count(3)

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    with Path(download.value.path()).open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    # Every row of the filtered list, not only the page on screen.
    assert len(rows) == many_excerpts
    assert {row["stance"] for row in rows} == {"critical"}
    assert all("Voting" in row["topics"] and row["text"].startswith("Synthetic test passage") for row in rows)
    assert {row["organisation"] for row in rows} == {Organisation.objects.get(slug="odihr").name}


def test_election_matrix_characterisation_primary_passage_and_citation(page, context, demo):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/")
    page.get_by_role("link", name=ELECTION_2016).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ELECTION_2016)

    matrix = page.get_by_role("table").filter(has_text="Verdict, in its own words")
    missions = Mission.objects.published().filter(election__slug="kz-2016-03-20-parliamentary")
    expect(matrix.locator("tbody tr")).to_have_count(missions.count())
    odihr = matrix.locator("tbody tr").filter(has=page.get_by_role("link", name="ODIHR", exact=True))
    expect(odihr).to_contain_text("Election observation mission")

    claim = page.locator(".comparison").filter(has_text="The OSCE was clear that the election was well organised")
    expect(claim.locator(".comparison-claim")).to_contain_text("Fidelity: Selective")
    expect(claim.locator(".comparison-primary")).to_contain_text("still has a considerable way to go")
    claim.locator(".comparison-claim .permalink").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("on what ODIHR said")
    expect(page.get_by_role("heading", name="Fidelity: Selective")).to_be_visible()

    primary = page.locator(".excerpt").filter(has_text="still has a considerable way to go")
    primary.get_by_role("link", name=re.compile("Cite and source")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"ODIHR on the {ELECTION_2016}")
    expect(page.locator(".excerpt blockquote").first).to_contain_text("still has a considerable way to go")

    citation = page.get_by_label("Citation (plain text)")
    button = page.locator(".copy-button")
    expect(button).to_have_accessible_name("Copy citation")
    button.click()
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == citation.input_value()
    assert "ODIHR" in copied and page.url in copied


def test_organisation_chart_and_its_table(page, demo):
    page.goto("/organisations/")
    page.get_by_role("row").filter(has_text="(ODIHR)").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("(ODIHR)")

    missions = Mission.objects.published().filter(organisation__slug="odihr").count()
    chart = page.get_by_role("img", name=f"Verdicts of ODIHR's {missions} published missions")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 300
    table = page.get_by_role("table", name="The same numbers as a table")
    expect(table).to_be_visible()

    labels = chart.locator(".chart-label").all_text_contents()
    values = chart.locator(".chart-value").all_text_contents()
    rows = [
        (row.locator("th").text_content(), row.locator("td").text_content()) for row in table.locator("tbody tr").all()
    ]
    assert list(zip(labels, values, strict=True)) == rows
    assert sum(int(value) for value in values) == missions
    for bar, value in zip(chart.locator("rect").all(), values, strict=True):
        assert (bar.bounding_box()["width"] > 0) == (int(value) > 0)


# The editors' journey: an editor drafts a characterisation and submits it; a publisher publishes it.


@pytest.fixture
def staff(django_user_model):
    def make(username, group):
        user = django_user_model.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user

    return make("ada_editor", "Editor"), make("pat_publisher", "Publisher")


@pytest.fixture
def column(demo):
    """A third party's published text, about to be characterised."""
    gazette = Organisation.objects.create(name="The Test Gazette", slug="test-gazette", kind=Organisation.Kind.NEWS)
    return Document.objects.create(
        title="Synthetic column on the 2016 election",
        kind=Document.Kind.OP_ED,
        publisher=gazette,
        date=datetime.date(2016, 3, 25),
        url="https://example.org/synthetic-column",
        status="published",
    )


def log_in(page, user):
    page.goto(reverse("admin:login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("admin:index")) + "$"))


def choose(page, field, search, option):
    """Pick a value in an admin autocomplete (select2) the way an editor does: open it, type, click."""
    widget = page.locator(f"#id_{field} + .select2")
    widget.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially(search)
    page.locator(".select2-results__option", has_text=option).click()
    expect(widget).to_contain_text(option[:40])


def test_editor_drafts_and_submits_publisher_publishes(page, new_context, staff, column):
    editor, publisher = staff
    claim = "The observers found the elections fully in line with international standards."

    log_in(page, editor)
    expect(page.get_by_role("link", name="Editorial desk")).to_have_count(0)
    page.goto(reverse("admin:observers_excerpt_add"))
    expect(page.get_by_role("heading", name="Add excerpt")).to_be_visible()
    choose(page, "mission", "ODIHR", f"ODIHR election observation mission, {ELECTION_2016}")
    choose(page, "document", "Synthetic column", column.title)
    page.get_by_label("Text").fill(claim)
    page.get_by_label("Stance").select_option(label="Positive")
    choose(page, "primary_excerpts", "considerable way", "still has a considerable way to go")
    page.get_by_label("Fidelity:", exact=True).select_option(label="Overstated")
    page.get_by_label("Fidelity note").fill("The final report says the opposite.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".workflow-status")).to_contain_text("Status: Draft")
    excerpt = Excerpt.objects.get(text=claim)
    assert excerpt.is_characterisation and excerpt.status == "draft"
    assert [p.text for p in excerpt.primary_excerpts.all()] == [
        Excerpt.objects.get(text__contains="still has a considerable way to go").text
    ]

    anonymous = new_context().new_page()
    anonymous.goto(reverse("observers:characterisation_list"))
    expect(anonymous.get_by_role("heading", level=1)).to_be_visible()
    expect(anonymous.get_by_text(claim)).to_have_count(0)

    expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".workflow-status")).to_contain_text("Status: In review")

    desk = new_context().new_page()
    log_in(desk, publisher)
    desk.get_by_role("link", name="Editorial desk").click()
    waiting = desk.locator(".module").filter(has_text="Excerpts waiting for review (1)")
    waiting.get_by_role("link", name=re.compile("The observers found the elections")).click()
    expect(desk.locator(".workflow-status")).to_contain_text("Status: In review")
    desk.get_by_role("button", name="Publish", exact=True).click()
    expect(desk.locator(".workflow-status")).to_contain_text("Status: Published")

    anonymous.reload()
    comparison = anonymous.locator(".comparison").filter(has_text=claim)
    expect(comparison).to_contain_text("Fidelity: Overstated")
    expect(comparison.locator(".comparison-primary")).to_contain_text("still has a considerable way to go")

    desk.goto(reverse("admin:observers_excerpt_history", args=[excerpt.pk]))
    history = desk.locator("#change-history tbody tr")
    expect(history.filter(has_text="Submit for review")).to_contain_text(editor.username)
    expect(history.filter(has_text="Publish").filter(has_not_text="Submit")).to_contain_text(publisher.username)
