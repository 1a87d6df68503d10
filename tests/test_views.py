"""The public pages, through real URLs with the test client."""

import csv
import datetime
import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Model
from django.template.context import BaseContext
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from observers import export, views
from observers.definitions import DEFINITIONS
from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic, country_name
from observers.signals import record_changed

PUBLISHED = Excerpt.Status.PUBLISHED
ATOM = "{http://www.w3.org/2005/Atom}"


class Record:
    """A small published record: ODIHR (within the OSCE) and the CIS at one Kazakh election,
    the ODIHR's own words, and a minister's characterisation of them."""

    def __init__(self):
        self.osce = Organisation.objects.create(
            name="Organization for Security and Co-operation in Europe",
            acronym="OSCE",
            slug="osce",
            kind="intergovernmental",
        )
        self.odihr = Organisation.objects.create(
            name="Office for Democratic Institutions and Human Rights",
            acronym="ODIHR",
            slug="odihr",
            kind="intergovernmental",
            parent=self.osce,
            endorsed_declaration=True,
        )
        self.cis = Organisation.objects.create(
            name="Commonwealth of Independent States", acronym="CIS", slug="cis", kind="intergovernmental"
        )
        self.ministry = Organisation.objects.create(
            name="Ministry of Foreign Affairs of Kazakhstan", acronym="", slug="mfa-kz", kind="government"
        )
        self.election = Election.objects.create(
            country="KZ",
            kind="parliamentary",
            chamber="Mazhilis",
            election_date=datetime.date(2016, 3, 20),
            is_early=True,
            slug="kz-2016-03-20-parliamentary",
        )
        self.other_election = Election.objects.create(
            country="AZ",
            kind="presidential",
            election_date=datetime.date(2018, 4, 11),
            slug="az-2018-04-11-presidential",
        )
        self.odihr_mission = Mission.objects.create(
            organisation=self.odihr,
            election=self.election,
            mission_type="eom",
            head="Boris Frlec",
            core_team=15,
            long_term_observers=28,
            deployed_from=datetime.date(2016, 2, 17),
            status=PUBLISHED,
        )
        self.cis_mission = Mission.objects.create(
            organisation=self.cis,
            election=self.election,
            mission_type="other",
            accredited_observers=301,
            status=PUBLISHED,
        )
        self.az_mission = Mission.objects.create(
            organisation=self.odihr, election=self.other_election, mission_type="eom", status=PUBLISHED
        )
        self.final_report = Document.objects.create(
            title="Final report",
            kind="final",
            publisher=self.odihr,
            date=datetime.date(2016, 6, 27),
            url="https://example.org/odihr/final",
            status=PUBLISHED,
            election=self.election,
        )
        self.interim = Document.objects.create(
            title="Interim report",
            kind="interim",
            publisher=self.odihr,
            date=datetime.date(2016, 3, 11),
            url="https://example.org/odihr/interim",
            status=PUBLISHED,
            election=self.election,
        )
        self.op_ed = Document.objects.create(
            title="Minister's comment",
            kind="op_ed",
            publisher=self.ministry,
            author="Erlan Idrissov",
            date=datetime.date(2016, 3, 21),
            url="https://example.org/op-ed",
            status=PUBLISHED,
            provenance="official_reprint",
        )
        self.az_report = Document.objects.create(
            title="Azerbaijan statement",
            kind="preliminary",
            publisher=self.odihr,
            date=datetime.date(2018, 4, 12),
            url="https://example.org/az",
            status=PUBLISHED,
        )
        self.headline = Excerpt.objects.create(
            mission=self.odihr_mission,
            document=self.final_report,
            status=PUBLISHED,
            stance="critical",
            is_headline=True,
            page="1",
            text=(
                "Kazakhstan still has a considerable way to go in meeting its OSCE commitments for democratic elections"
            ),
        )
        self.headline.topics.add(Topic.objects.get(slug="legal-framework"))
        self.irregularities = Excerpt.objects.create(
            mission=self.odihr_mission,
            document=self.final_report,
            status=PUBLISHED,
            stance="critical",
            page="2",
            paragraph="4",
            text="serious procedural errors and irregularities were observed during voting, counting and tabulation",
        )
        self.irregularities.topics.add(
            Topic.objects.get(slug="voting"), Topic.objects.get(slug="counting-and-tabulation")
        )
        self.interim_words = Excerpt.objects.create(
            mission=self.odihr_mission,
            document=self.interim,
            status=PUBLISHED,
            stance="neutral",
            text="Регистрация кандидатов прошла",
            language="ru",
            translation="Candidate registration went ahead",
            translation_status="editor",
        )
        self.claim = Excerpt.objects.create(
            mission=self.odihr_mission,
            document=self.op_ed,
            status=PUBLISHED,
            stance="positive",
            text="The OSCE was clear that the election was well organised and professional.",
            fidelity="selective",
            fidelity_note="Leaves out the final report's conclusion.",
        )
        self.claim.primary_excerpts.add(self.irregularities)
        self.az_words = Excerpt.objects.create(
            mission=self.az_mission,
            document=self.az_report,
            status=PUBLISHED,
            stance="critical",
            text="The election took place in a restrictive environment",
        )

    def add_excerpts(self, count, stance="critical"):
        for n in range(count):
            excerpt = Excerpt.objects.create(
                mission=self.odihr_mission,
                document=self.final_report,
                status=PUBLISHED,
                stance=stance,
                text=f"Additional finding number {n} about the administration",
                page=str(n),
            )
            excerpt.topics.add(Topic.objects.get(slug="election-administration"))


@pytest.fixture
def record(db):
    return Record()


def text_of(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# Pages render -------------------------------------------------------------------------------------


def test_home_shows_numbers_and_recent(client, record):
    response = client.get(reverse("observers:home"))
    assert response.status_code == 200
    assert response.context["numbers"]["excerpts"] == 5
    assert response.context["numbers"]["characterisations"] == 1
    assert response.context["numbers"]["missions"] == 3
    assert "considerable way to go" in text_of(response)
    assert str(record.election) in text_of(response)


def test_election_detail_opens_with_verdict_matrix(client, record):
    record.odihr_mission.verdict = "critical"
    record.odihr_mission.verdict_excerpt = record.headline
    record.odihr_mission.save()
    response = client.get(record.election.get_absolute_url())
    page = text_of(response)
    matrix = page[page.index("Verdict matrix") : page.index("What others said they said")]
    assert "ODIHR" in matrix and "CIS" in matrix
    assert "Boris Frlec" in matrix and "301 accredited" in matrix and "15 core team" in matrix
    assert "Critical" in matrix and "considerable way to go" in matrix
    assert "Endorser" in matrix and "Not an endorser" in matrix
    assert "Not yet coded" in matrix


def test_election_detail_puts_characterisation_beside_primary_and_left_out_headline(client, record):
    page = text_of(client.get(record.election.get_absolute_url()))
    comparison = page[page.index("What others said they said") : page.index("Each mission in its own words")]
    assert "well organised and professional" in comparison
    assert "serious procedural errors" in comparison
    assert "Fidelity: Selective" in comparison
    assert "Leaves out the final report" in comparison
    # The headline conclusion the minister did not report is shown as left out.
    assert "headline conclusion it leaves out" in comparison
    assert "considerable way to go" in comparison


def test_election_detail_groups_own_words_in_lifecycle_order(client, record):
    page = text_of(client.get(record.election.get_absolute_url()))
    own_words = page[page.index("Each mission in its own words") :]
    assert own_words.index("Interim report") < own_words.index("Final report")


def test_organisation_detail_has_chart_with_text_equivalent(client, record):
    record.odihr_mission.verdict = "critical"
    record.odihr_mission.save()
    response = client.get(record.odihr.get_absolute_url())
    page = text_of(response)
    assert "<svg" in page and 'role="img"' in page
    chart = {bar["value"]: bar["count"] for bar in response.context["chart"]}
    assert chart["critical"] == 1 and chart[""] == 1
    assert "The same numbers as a table" in page
    assert "Office for Democratic Institutions" in page


def test_mission_and_document_details(client, record):
    page = text_of(client.get(record.odihr_mission.get_absolute_url()))
    assert "Boris Frlec" in page and "considerable way to go" in page and "well organised" in page
    page = text_of(client.get(record.final_report.get_absolute_url()))
    assert "https://example.org/odihr/final" in page and "serious procedural errors" in page


def test_excerpt_permalink(client, record):
    response = client.get(record.interim_words.get_absolute_url())
    page = text_of(response)
    assert 'lang="ru"' in page
    assert "Регистрация кандидатов прошла" in page
    assert "Editor&#x27;s translation" in page or "Editor's translation" in page
    assert "Interim report" in page and "https://example.org/odihr/interim" in page
    data = json.loads(response.context["json_ld"])
    assert data["@type"] == "Quotation" and data["text"] == record.interim_words.text


def test_characterisation_permalink_links_both_ways_and_has_claim_review(client, record):
    response = client.get(record.claim.get_absolute_url())
    page = text_of(response)
    assert record.irregularities.get_absolute_url() in page
    data = json.loads(response.context["json_ld"])
    assert data["@type"] == "ClaimReview"
    assert data["claimReviewed"] == record.claim.text
    assert data["reviewRating"]["alternateName"] == "Selective"
    back = text_of(client.get(record.irregularities.get_absolute_url()))
    assert "How others characterised this passage" in back and record.claim.get_absolute_url() in back


def test_citation_carries_document_and_locator(client, record):
    response = client.get(record.irregularities.get_absolute_url())
    citation = response.context["citation"]
    assert "Final report" in citation and "p. 2, para. 4" in citation and "27 June 2016" in citation
    assert "https://example.org/odihr/final" in citation
    bib = client.get(reverse("observers:excerpt_citation", kwargs={"pk": record.irregularities.pk, "format": "bib"}))
    assert bib["Content-Type"].startswith("application/x-bibtex")
    assert "@misc{eor-excerpt-" in bib.content.decode() and "title = {Final report}" in bib.content.decode()
    ris = client.get(reverse("observers:excerpt_citation", kwargs={"pk": record.irregularities.pk, "format": "ris"}))
    body = ris.content.decode()
    assert body.startswith("TY  - GEN") and "SP  - 2" in body and body.rstrip().endswith("ER  -")
    unknown = client.get(
        reverse("observers:excerpt_citation", kwargs={"pk": record.irregularities.pk, "format": "doc"})
    )
    assert unknown.status_code == 404


def test_methodology_defines_every_coded_value(client, record):
    page = text_of(client.get(reverse("observers:methodology")))
    for choices, definitions in DEFINITIONS.items():
        for value in choices.values:
            assert definitions.get(value), f"{choices.__qualname__}.{value} has no definition"
            assert f"<code>{value}</code>" in page
    assert "<code>fidelity_note</code>" in page and "<code>document_url</code>" in page


# Filters, facets, summary ------------------------------------------------------------------------------


def ids(response):
    return {excerpt.pk for excerpt in response.context["object_list"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stance=critical", {"headline", "irregularities", "az_words"}),
        ("organisation=osce", {"headline", "irregularities", "interim_words", "claim", "az_words"}),
        ("organisation=cis", set()),
        ("country=AZ", {"az_words"}),
        ("election=kz-2016-03-20-parliamentary", {"headline", "irregularities", "interim_words", "claim"}),
        ("year_from=2017", {"az_words"}),
        ("year_to=2016", {"headline", "irregularities", "interim_words", "claim"}),
        ("topic=voting", {"irregularities"}),
        ("document_kind=interim", {"interim_words"}),
        ("provenance=official_reprint", {"claim"}),
        ("language=ru", {"interim_words"}),
        ("headline=on", {"headline"}),
        ("source=characterisation", {"claim"}),
        ("source=primary", {"headline", "irregularities", "interim_words", "az_words"}),
        ("fidelity=selective", {"claim"}),
        ("q=irregularities", {"irregularities"}),
        ("q=candidate+registration", {"interim_words"}),
        ("q=регистрация", {"interim_words"}),
        ("stance=critical&country=KZ&organisation=odihr", {"headline", "irregularities"}),
    ],
)
def test_excerpt_filters_by_query_string(client, record, query, expected):
    response = client.get(reverse("observers:excerpt_list") + "?" + query)
    assert response.status_code == 200
    assert ids(response) == {getattr(record, name).pk for name in expected}


def test_mission_and_document_filters(client, record):
    response = client.get(reverse("observers:excerpt_list"), {"mission": record.az_mission.pk})
    assert ids(response) == {record.az_words.pk}
    response = client.get(reverse("observers:excerpt_list"), {"document": record.interim.pk})
    assert ids(response) == {record.interim_words.pk}


def test_summary_sentence(client, record):
    response = client.get(
        reverse("observers:excerpt_list"), {"stance": "critical", "organisation": "odihr", "country": "KZ"}
    )
    assert response.context["summary"] == "2 critical excerpts from ODIHR about Kazakhstan"
    assert "2 critical excerpts from ODIHR about Kazakhstan" in text_of(response)


def test_facet_counts_and_links(client, record):
    response = client.get(reverse("observers:excerpt_list"), {"country": "KZ"})
    groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
    stance = {item["label"]: item["count"] for item in groups["stance"]}
    assert stance == {"Critical": 2, "Neutral": 1, "Positive": 1}
    assert {item["label"]: item["count"] for item in groups["organisation"]} == {
        "Office for Democratic Institutions and Human Rights": 4
    }
    critical = next(item for item in groups["stance"] if item["label"] == "Critical")
    assert critical["url"] == "?country=KZ&stance=critical"
    country = next(item for item in groups["country"] if item["label"] == "Kazakhstan")
    assert country["active"] and country["url"] == "?"
    topics = {item["label"]: item["count"] for item in groups["topic"]}
    assert topics["Voting"] == 1 and topics["Legal framework"] == 1


def grouped_count(queryset, field, label_field=None, limit=100):
    """(value, label, count) of the most frequent values of `field` in `queryset`, grouped and counted
    by the database: what the facets, counted otherwise, must show."""
    from django.db.models import Count

    label_field = label_field or field
    rows = (
        queryset.exclude(**{f"{field}__isnull": True})
        .order_by()
        .values(field, label_field)
        .annotate(n=Count("*"))
        .order_by("-n", label_field)[:limit]
    )
    return [(row[field], row[label_field], row["n"]) for row in rows]


@pytest.mark.parametrize(
    "name, query",
    [("excerpt_list", {}), ("excerpt_list", {"q": "finding"}), ("excerpt_list", {"stance": "critical"}),
     ("characterisation_list", {}), ("election_list", {}), ("mission_list", {}), ("mission_list", {"country": "KZ"}),
     ("document_list", {}), ("document_list", {"publisher": "osce"}), ("organisation_list", {})],
)  # fmt: skip
def test_facets_read_in_one_query_count_what_grouped_counts_do(client, record, name, query):
    # Every list reads all its facets' values in one query, and counts them there or in Python: the
    # same numbers as a grouped count of each facet in the database.
    from django.db.models import Count

    record.add_excerpts(12)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(f"observers:{name}"), query)
    sql = [q["sql"] for q in queries.captured_queries]
    # SQLite reads the first rows once as a common table expression, PostgreSQL in grouping sets.
    facet_queries = [text for text in sql if text.startswith("WITH first ") or text.startswith("SELECT GROUPING(")]
    model = response.context["view"].get_queryset().model
    listed = model.objects.filter(pk__in=[row.pk for row in response.context["paginator"].object_list])
    groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
    assert groups
    assert len(facet_queries) == 1, facet_queries
    # No grouped count of a facet of its own (as each facet was once counted).
    assert not [text for text in sql if re.match(r'SELECT [^(]*, COUNT\(\*\) AS "n" FROM', text)]
    for facet, field, label_field in response.context["view"].facets:
        shown = {item["label"]: item["count"] for item in groups.get(facet, [])}
        if field.startswith("topics__"):
            links = Excerpt.topics.through.objects.filter(excerpt__in=listed).values("topic__name")
            assert shown == {row["topic__name"]: row["n"] for row in links.annotate(n=Count("*"))}
        elif label_field:  # an organisation's name
            assert shown == {label: n for _, label, n in grouped_count(listed, field, label_field)}
        else:  # a choice's label, or a country's name
            choices = dict(response.context["filter"].form.fields[facet].choices)
            counted = grouped_count(listed, field)
            labels = [country_name(value) if facet == "country" else choices.get(value, value) for value, *_ in counted]
            assert shown == {label: n for label, (*_, n) in zip(labels, counted, strict=True)}


@pytest.mark.parametrize("limit", [None, 3])  # 3: the counts stop at the first three rows
@pytest.mark.parametrize(
    "name, query, pinned",
    [("excerpt_list", {"stance": "critical"}, {"stance"}),
     ("excerpt_list", {"country": "KZ", "document_kind": "final"}, {"country", "document_kind"}),
     ("excerpt_list", {"q": "finding", "sort": "relevance", "stance": "critical"}, {"stance"}),
     ("excerpt_list", {"organisation": "odihr", "topic": "voting"}, set()),  # a family, and other topics
     ("excerpt_list", {"stance": "nonsense"}, set()),  # an invalid value filters nothing
     ("characterisation_list", {"fidelity": "selective"}, {"fidelity"}),
     ("election_list", {"country": "KZ", "kind": "parliamentary"}, {"country", "kind"}),
     ("mission_list", {"mission_type": "eom", "country": "KZ"}, {"mission_type", "country"}),
     ("document_list", {"kind": "preliminary"}, {"kind"})],
)  # fmt: skip
def test_a_facet_pinned_by_its_own_filter_is_not_counted(client, record, monkeypatch, name, query, pinned, limit):
    # Every row of ?stance=critical is critical: its stance facet is that value as many times as
    # the facets count rows, and only the other facets are counted by the database.
    from observers import filters

    if limit:
        monkeypatch.setattr(filters, "COUNT_LIMIT", limit)
    record.add_excerpts(12)
    counted_fields = []
    first_rows_facet_counts = filters._first_rows_facet_counts

    def counting_facets(queryset, facets, limit):
        counted_fields.extend(field for _, field, _ in facets)
        return first_rows_facet_counts(queryset, facets, limit)

    monkeypatch.setattr(filters, "_first_rows_facet_counts", counting_facets)
    response = client.get(reverse(f"observers:{name}"), query)
    view = response.context["view"]
    assert {name for name, field, _ in view.facets if field in counted_fields} == {
        name for name, _, _ in view.facets
    } - pinned
    # What counting every facet gives: the pinned ones are the same.
    every_facet = filters.facet_counts(view.object_list, view.facets)
    groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
    for name in pinned:
        (item,) = groups[name]
        ((value, _, n),) = every_facet[name]
        assert n == min(response.context["paginator"].count, filters.COUNT_LIMIT) > 0
        rest = "&".join(f"{key}={value}" for key, value in query.items() if key != name)
        assert (value, item["count"], item["active"], item["url"]) == (query[name], n, True, "?" + rest)


def grouped_as_shown(response, name):
    """{label: count} of a grouped count of the published excerpts' `name`, labelled as the facet
    labels its values."""
    from django.db.models import Count

    counted = Excerpt.objects.published().values(name).annotate(n=Count("*"))
    choices = dict(response.context["filter"].form.fields[name].choices)
    return {
        (country_name(row[name]) if name == "country" else choices.get(row[name], row[name])): row["n"]
        for row in counted
    }


def facet_queries(queries):
    return [query for query in queries if "COUNT(" in query["sql"] and "first" in query["sql"]]


def test_facet_values_holding_the_separator_are_counted_grouped(client, record):
    # On SQLite a facet of the excerpt's own column is read as its values joined by a separator. A
    # value that holds the separator (written past the site's forms) sends the facets to a grouped
    # count rather than miscounting them.
    from observers import filters

    record.add_excerpts(6)
    odd = filters.SEPARATOR.join(["final", "final"])
    changed = Excerpt.objects.published().order_by("pk")[:2].values_list("pk", flat=True)
    Excerpt.objects.filter(pk__in=list(changed)).update(document_kind=odd, country="K" + filters.SEPARATOR)
    record_changed()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("observers:excerpt_list"))
    groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
    listed = Excerpt.objects.published()
    for name in ("document_kind", "country"):
        odd_value = odd if name == "document_kind" else "K" + filters.SEPARATOR
        assert listed.filter(**{name: odd_value}).count() == 2
        assert {item["label"]: item["count"] for item in groups[name]} == grouped_as_shown(response, name)
    assert len(facet_queries(queries)) == (2 if connection.vendor == "sqlite" else 1)


def test_facets_read_whole_leave_out_empty_values_as_grouped_counts_did(client, record):
    # An excerpt without an organisation (its copy empty: NULL) is in no organisation's count, and
    # an empty country or document kind ('') is a value of its own, as in a grouped count.
    from django.db.models import Count

    record.add_excerpts(6)
    changed = list(Excerpt.objects.published().order_by("pk")[:3].values_list("pk", flat=True))
    Excerpt.objects.filter(pk__in=changed[:2]).update(organisation=None)
    Excerpt.objects.filter(pk__in=changed[1:]).update(country="", document_kind="")
    record_changed()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("observers:excerpt_list"))
    assert len(facet_queries(queries)) == 1
    groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
    listed = Excerpt.objects.published()
    organisations = listed.exclude(organisation=None).values("organisation__name").annotate(n=Count("*"))
    assert {item["label"]: item["count"] for item in groups["organisation"]} == {
        row["organisation__name"]: row["n"] for row in organisations
    }
    for name in ("country", "document_kind"):
        assert listed.filter(**{name: ""}).count() == 2
        assert {item["label"]: item["count"] for item in groups[name]} == grouped_as_shown(response, name)


def test_beyond_the_count_limit_facets_count_the_first_rows_listed(client, record, monkeypatch):
    # Like the count, facets stop at the limit: they count the first rows in the list's order.
    from observers import filters

    monkeypatch.setattr(filters, "COUNT_LIMIT", 3)
    newest_first = client.get(reverse("observers:excerpt_list"), {"country": "KZ"})
    assert newest_first.context["facets_bounded"]
    assert "Counted among the first 3 listed." in text_of(newest_first)
    first_three = list(Excerpt.objects.published().filter(country="KZ").order_by("-sort_key")[:3])
    groups = {group["name"]: group["items"] for group in newest_first.context["facet_groups"]}
    assert sum(item["count"] for item in groups["stance"]) == 3
    stances = {item["label"].lower(): item["count"] for item in groups["stance"]}
    assert stances == {s: sum(e.stance == s for e in first_three) for s in {e.stance for e in first_three}}
    oldest_first = client.get(reverse("observers:excerpt_list"), {"country": "KZ", "sort": "oldest"})
    last_three = list(Excerpt.objects.published().filter(country="KZ").order_by("sort_key")[:3])
    groups = {group["name"]: group["items"] for group in oldest_first.context["facet_groups"]}
    stances = {item["label"].lower(): item["count"] for item in groups["stance"]}
    assert stances == {s: sum(e.stance == s for e in last_three) for s in {e.stance for e in last_three}}
    monkeypatch.setattr(filters, "COUNT_LIMIT", 10)
    cache.clear()
    exact = client.get(reverse("observers:excerpt_list"), {"country": "KZ"})
    assert not exact.context["facets_bounded"]
    assert "Counted among" not in text_of(exact)


@pytest.mark.parametrize("name", ["excerpt_list", "characterisation_list", "mission_list", "document_list"])
def test_a_list_shorter_than_the_facets_limit_is_counted_in_no_order(client, record, monkeypatch, name):
    # Every row of a shorter list is counted, so PostgreSQL is not asked for them in the list's order
    # (it sorted them); SQLite reads them in order from the list's index. A list as long as the limit
    # has its first rows counted, in order.
    from observers import filters

    record.add_excerpts(12)
    url = reverse(f"observers:{name}")
    listed = client.get(url).context["paginator"].count
    assert listed >= 1
    counted = []
    for limit, ordered in ((listed + 1, False), (listed, True)):
        monkeypatch.setattr(filters, "COUNT_LIMIT", limit)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        (facets,) = [
            q["sql"] for q in queries.captured_queries if q["sql"].startswith(("WITH first ", "SELECT GROUPING("))
        ]
        assert (" ORDER BY " in facets) is (ordered or connection.vendor == "sqlite"), (limit, facets)
        groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
        assert groups
        assert not response.context["facets_bounded"]
        # Both count every row: the same numbers.
        counted.append(groups)
    assert counted[0] == counted[1]


def test_characterisations_offer_elections_in_a_list_only_while_they_are_few(client, record, monkeypatch):
    from observers import filters, signals

    def changed():
        # The elections are kept per record version, in the process too (cache.clear() leaves them).
        signals.record_changed()
        cache.clear()

    url = reverse("observers:characterisation_list")
    page = client.get(url)
    assert '<select name="election"' in page.content.decode()
    # Each election with a published characterisation, newest first, named as elsewhere.
    characterised = Election.objects.filter(pk__in=Excerpt.objects.published().characterisations().values("election"))
    offered = page.context["filter"].form.fields["election"].choices
    assert offered == [("", "Any election")] + [
        (election.slug, str(election)) for election in characterised.order_by("-election_date", "country")
    ]
    assert len(offered) > 1
    monkeypatch.setattr(filters, "SELECT_LIMIT", 0)
    changed()
    page = client.get(url).content.decode()
    assert '<select name="election"' not in page and 'name="election"' not in page
    chosen = client.get(url, {"election": record.election.slug})
    assert f'<input type="hidden" name="election" value="{record.election.slug}"' in chosen.content.decode()
    assert chosen.context["paginator"].count == 1
    assert [chip["label"] for chip in chosen.context["active_filters"]] == ["Election"]
    # Few again: the list again (each form class is kept per process, one for each case).
    monkeypatch.setattr(filters, "SELECT_LIMIT", 100)
    changed()
    assert '<select name="election"' in client.get(url, {"fidelity": "selective"}).content.decode()
    # Exactly as many as the limit: still a list; one fewer allowed: hidden.
    characterised = Election.objects.filter(
        pk__in=Excerpt.objects.published().characterisations().values("election")
    ).count()
    assert characterised >= 1
    monkeypatch.setattr(filters, "SELECT_LIMIT", characterised)
    changed()
    assert '<select name="election"' in client.get(url).content.decode()
    monkeypatch.setattr(filters, "SELECT_LIMIT", characterised - 1)
    changed()
    assert '<select name="election"' not in client.get(url).content.decode()
    # Read up to one more than the limit: here all of them.
    assert len(filters.characterised_elections()) == characterised


@pytest.mark.parametrize("name", ["excerpt_list", "mission_list", "document_list", "characterisation_list"])
def test_a_filter_form_offers_what_was_added_since_the_last(client, record, organisation_factory, name):
    # One form class serves every request: its choices are read afresh for each form shown.
    url = reverse(f"observers:{name}")
    assert "Newly added observers" not in text_of(client.get(url))
    organisation_factory(name="Newly added observers", acronym="", slug="newly-added")
    page = text_of(client.get(url))
    assert '<option value="newly-added">Newly added observers</option>' in page


def test_active_filters_can_each_be_removed(client, record):
    response = client.get(reverse("observers:excerpt_list"), {"stance": "critical", "country": "KZ"})
    removals = {chip["label"]: chip["remove_url"] for chip in response.context["active_filters"]}
    assert removals == {"Country": "?stance=critical", "Stance": "?country=KZ"}
    assert "Clear all filters" in text_of(response)


def test_sort_by_relevance_and_date(client, record):
    record.add_excerpts(2)
    response = client.get(reverse("observers:excerpt_list"), {"q": "irregularities voting", "sort": "relevance"})
    assert list(response.context["object_list"])[0].pk == record.irregularities.pk
    oldest = client.get(reverse("observers:excerpt_list"), {"sort": "oldest"}).context["object_list"]
    newest = client.get(reverse("observers:excerpt_list"), {"sort": "newest"}).context["object_list"]
    assert oldest[0].document.date <= oldest[len(oldest) - 1].document.date
    assert newest[0].pk == record.az_words.pk


def test_pagination_keeps_filters(client, record):
    record.add_excerpts(30)
    response = client.get(reverse("observers:excerpt_list"), {"stance": "critical", "country": "KZ"})
    page = text_of(response)
    assert "?stance=critical&amp;country=KZ&amp;page=2" in page
    second = client.get(reverse("observers:excerpt_list"), {"stance": "critical", "country": "KZ", "page": 2})
    assert len(second.context["object_list"]) == 32 - 25


def test_search_escapes_operators(client, record):
    for query in ['"', "NEAR(a b)", "voting OR", "text:voting", "*", "-voting", "a AND (b", "'; DROP TABLE x; --"]:
        response = client.get(reverse("observers:excerpt_list"), {"q": query})
        assert response.status_code == 200


def test_search_index_follows_edits_and_deletes(client, record):
    record.az_words.text = "A brand new phrase about quokkas"
    record.az_words.save()
    assert ids(client.get(reverse("observers:excerpt_list"), {"q": "quokkas"})) == {record.az_words.pk}
    assert ids(client.get(reverse("observers:excerpt_list"), {"q": "restrictive"})) == set()
    record.az_words.delete()
    assert ids(client.get(reverse("observers:excerpt_list"), {"q": "quokkas"})) == set()


def test_other_lists_filter(client, record):
    elections = client.get(reverse("observers:election_list"), {"country": "AZ"}).context["object_list"]
    assert [e.slug for e in elections] == ["az-2018-04-11-presidential"]
    observed = client.get(reverse("observers:election_list"), {"organisation": "cis"}).context["object_list"]
    assert [e.slug for e in observed] == ["kz-2016-03-20-parliamentary"]
    by_year = client.get(reverse("observers:election_list"), {"year": "2018"}).context["object_list"]
    assert [e.slug for e in by_year] == ["az-2018-04-11-presidential"]
    orgs = client.get(reverse("observers:organisation_list"), {"endorser": "true"}).context["object_list"]
    assert [o.slug for o in orgs] == ["odihr"]
    children = client.get(reverse("observers:organisation_list"), {"parent": "osce"}).context["object_list"]
    assert [o.slug for o in children] == ["odihr"]
    odihr = next(
        o for o in client.get(reverse("observers:organisation_list")).context["object_list"] if o.slug == "odihr"
    )
    assert odihr.mission_count == 2
    missions = client.get(reverse("observers:mission_list"), {"organisation": "cis"}).context["object_list"]
    assert [m.pk for m in missions] == [record.cis_mission.pk]
    documents = client.get(reverse("observers:document_list"), {"kind": "op_ed"}).context["object_list"]
    assert [d.pk for d in documents] == [record.op_ed.pk]
    characterisations = client.get(reverse("observers:characterisation_list"), {"by": "mfa-kz", "about": "osce"})
    assert ids(characterisations) == {record.claim.pk}
    assert "Fidelity: Selective" in text_of(characterisations)


# Data out ---------------------------------------------------------------------------------------------


def test_an_export_names_a_topic_made_while_it_streams(client, record):
    # The topics' names are cached per record version; links written without signals (as by a bulk
    # load, between two chunks) to a topic the cache does not know still export by name.
    views.topic_names()
    topic = Topic(slug="late-topic", name="A late topic")
    Topic.objects.bulk_create([topic])
    topic = Topic.objects.get(slug="late-topic")
    Excerpt.topics.through.objects.bulk_create([Excerpt.topics.through(excerpt=record.headline, topic=topic)])
    rows = list(csv.DictReader(io.StringIO(text_of(client.get("/excerpts.csv")).lstrip("\ufeff"))))
    row = next(row for row in rows if row["id"] == str(record.headline.pk))
    assert "A late topic" in row["topics"]


def test_csv_export_is_the_whole_filtered_list(client, record):
    record.add_excerpts(30)
    response = client.get(reverse("observers:excerpt_export", kwargs={"format": "csv"}), {"country": "KZ"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text_of(response).lstrip("\ufeff"))))
    listed = client.get(reverse("observers:excerpt_list"), {"country": "KZ"}).context["paginator"].count
    assert len(rows) == listed == 34
    assert {row["country"] for row in rows} == {"KZ"}
    irregularities = next(row for row in rows if row["id"] == str(record.irregularities.pk))
    assert irregularities["topics"] == "Counting and tabulation; Voting"


def test_json_export_matches_filter(client, record):
    response = client.get(reverse("observers:excerpt_export", kwargs={"format": "json"}), {"stance": "critical"})
    rows = json.loads(text_of(response))
    assert {row["id"] for row in rows} == {record.headline.pk, record.irregularities.pk, record.az_words.pk}
    assert all(set(row) >= {"text", "document_url", "organisation", "fidelity"} for row in rows)


@pytest.mark.parametrize("name", ["excerpt", "characterisation"])
def test_an_exported_excerpt_says_what_its_record_says(client, record, name):
    # The exports read the excerpt's row with its flags as numbers, its dates as text and its topics'
    # ids in one string, and its mission's and document's columns a chunk at a time: each value is
    # checked here against the objects themselves.
    rows = json.loads(text_of(client.get(reverse(f"observers:{name}_export", kwargs={"format": "json"}))))
    assert rows
    excerpts = Excerpt.objects.select_related("mission__organisation", "mission__election", "document__publisher")
    for row in rows:
        excerpt = excerpts.get(pk=row["id"])
        mission, document, election = excerpt.mission, excerpt.document, excerpt.mission.election
        assert row == row | {
            "url": excerpt.get_absolute_url(),
            "text": excerpt.text,
            "stance": excerpt.stance,
            "headline": excerpt.is_headline,
            "characterisation": excerpt.is_characterisation,
            "topics": sorted(excerpt.topics.values_list("name", flat=True)),
            "organisation": mission.organisation.name,
            "mission_type": mission.mission_type,
            "country": election.country.code,
            "election": str(election),
            "election_date": election.election_date.isoformat(),
            "document": document.title,
            "document_kind": document.kind,
            "document_date": document.date.isoformat() if document.date else None,
            "publisher": document.publisher.name,
            "provenance": document.provenance,
            "document_url": document.url,
        }
    assert all(type(row["headline"]) is bool for row in rows)
    assert all(type(row["characterisation"]) is bool for row in rows)
    assert any(row["headline"] for row in rows) == (name == "excerpt")
    assert all(row["characterisation"] for row in rows) == (name == "characterisation")


def test_the_mission_and_document_exports_say_what_their_records_say(client, record):
    # Both read plain values (and the joint partners a chunk at a time): checked against the objects.
    record.odihr_mission.joint_partners.add(record.az_mission.organisation)
    missions = json.loads(text_of(client.get(reverse("observers:mission_export", kwargs={"format": "json"}))))
    assert missions
    for row in missions:
        mission = Mission.objects.select_related("organisation", "election").get(pk=row["id"])
        assert row == {
            "id": mission.pk,
            "organisation": mission.organisation.name,
            "mission_type": mission.mission_type,
            "election": mission.election.slug,
            "country": mission.election.country.code,
            "election_date": mission.election.election_date.isoformat(),
            "head": mission.head,
            "core_team": mission.core_team,
            "long_term_observers": mission.long_term_observers,
            "short_term_observers": mission.short_term_observers,
            "accredited_observers": mission.accredited_observers,
            "deployed_from": mission.deployed_from and mission.deployed_from.isoformat(),
            "deployed_to": mission.deployed_to and mission.deployed_to.isoformat(),
            "verdict": mission.verdict,
            "joint_partners": sorted(mission.joint_partners.values_list("name", flat=True)),
        }
    assert any(row["joint_partners"] for row in missions)
    documents = json.loads(text_of(client.get(reverse("observers:document_export", kwargs={"format": "json"}))))
    assert documents
    for row in documents:
        document = Document.objects.select_related("publisher", "election").get(pk=row["id"])
        assert row == {
            "id": document.pk,
            "title": document.title,
            "kind": document.kind,
            "publisher": document.publisher.name,
            "author": document.author,
            "date": document.date and document.date.isoformat(),
            "language": document.language,
            "url": document.url,
            "archive_url": document.archive_url,
            "provenance": document.provenance,
            "election": document.election.slug if document.election else "",
        }


def test_a_document_unpublished_while_an_export_streams_shows_no_draft(client, record, monkeypatch):
    # The documents' columns are read a chunk at a time, after the excerpts' rows: a document made a
    # draft in between leaves its columns empty in the chunks that follow, never its draft's values.
    monkeypatch.setattr(export, "CHUNK", 2)
    record.add_excerpts(6)
    response = client.get(reverse("observers:excerpt_export", kwargs={"format": "json"}))
    chunks = iter(response.streaming_content)
    started = next(chunks) + next(chunks)  # the opening bracket, then the first chunk
    Document.objects.filter(pk=record.final_report.pk).update(status=Document.Status.DRAFT, title="A draft title")
    record_changed()  # as any save does, in whichever process: what processes keep of the record is retired
    rows = json.loads((started + b"".join(chunks)).decode())
    later = [row for row in rows[2:] if row["id"] in {e.pk for e in record.final_report.excerpts.all()}]
    assert later and all(row["document"] is None and row["document_url"] is None for row in later)
    assert "A draft title" not in json.dumps(rows)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_is_the_same_in_chunks_of_any_size(client, record, monkeypatch, fmt):
    # Exports read short chunks first, then long ones (export.CHUNK, FIRST_ROWS, LONG_CHUNK): the
    # bytes are the same as read in one chunk, with the sizes changing partway through.
    record.add_excerpts(12)
    url = reverse("observers:excerpt_export", kwargs={"format": fmt})
    whole = b"".join(client.get(url).streaming_content)
    monkeypatch.setattr(export, "CHUNK", 2)
    monkeypatch.setattr(export, "FIRST_ROWS", 5)
    monkeypatch.setattr(export, "LONG_CHUNK", 3)
    response = client.get(url)
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == whole
    rows = whole.decode().count("\n{" if fmt == "json" else "\r\n") - (0 if fmt == "json" else 1)
    assert rows > 8
    # The header (or opening bracket), chunks of 2 rows for the first 4, then of 3 (and JSON's
    # closing bracket).
    assert len(chunks) == 1 + 2 + (rows - 4 + 2) // 3 + (fmt == "json")


@pytest.mark.parametrize("name", ["election", "organisation", "mission", "document", "characterisation"])
def test_every_list_exports(client, record, name):
    listed = client.get(reverse(f"observers:{name}_list")).context["paginator"].count
    rows = json.loads(text_of(client.get(reverse(f"observers:{name}_export", kwargs={"format": "json"}))))
    assert len(rows) == listed > 0
    table = list(
        csv.reader(io.StringIO(text_of(client.get(reverse(f"observers:{name}_export", kwargs={"format": "csv"})))))
    )
    assert len(table) == listed + 1


def test_csv_neutralises_formulas(client, record):
    for n, text in enumerate(['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)"]):
        Excerpt.objects.create(
            mission=record.az_mission,
            document=record.az_report,
            status=PUBLISHED,
            stance="neutral",
            text=text,
            page=str(n),
        )
    rows = list(
        csv.DictReader(
            io.StringIO(
                text_of(
                    client.get(
                        reverse("observers:excerpt_export", kwargs={"format": "csv"}),
                        {"country": "AZ", "stance": "neutral"},
                    )
                ).lstrip("\ufeff")
            )
        )
    )
    assert sorted(row["text"] for row in rows) == sorted(['\'=HYPERLINK("http://x")', "'+1+1", "'-2", "'@SUM(A1)"])


def test_feed_is_atom_and_accepts_filters(client, record):
    response = client.get(reverse("observers:excerpt_feed"), {"stance": "critical", "country": "AZ"})
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].find(f"{ATOM}link").attrib["href"].endswith(record.az_words.get_absolute_url())
    assert "critical excerpts about Azerbaijan" in root.find(f"{ATOM}title").text


def test_sitemap_and_robots(client, record):
    index = ET.fromstring(client.get("/sitemap.xml").content)
    sections = [loc.text for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "http://testserver/sitemap-excerpts.xml" in sections
    locations = set()
    for section in sections:
        root = ET.fromstring(client.get(section.removeprefix("http://testserver")).content)
        locations |= {loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")}
    assert any(loc.endswith(record.claim.get_absolute_url()) for loc in locations)
    assert any(loc.endswith(record.election.get_absolute_url()) for loc in locations)
    robots = client.get("/robots.txt")
    assert (
        robots["Content-Type"].startswith("text/plain")
        and "Sitemap: http://testserver/sitemap.xml" in robots.content.decode()
    )


def test_sitemap_sections_give_what_djangos_own_template_gives(client, record, rf):
    # The lean section template: the same addresses and days as django.contrib.sitemaps' own.
    from django.contrib.sitemaps import views as sitemap_views

    from observers.sitemaps import sitemaps

    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

    def entries(content):
        return [
            (url.findtext(f"{namespace}loc"), url.findtext(f"{namespace}lastmod"))
            for url in ET.fromstring(content).iter(f"{namespace}url")
        ]

    for section in sitemaps:
        ours = entries(client.get(f"/sitemap-{section}.xml").content)
        request = rf.get(f"/sitemap-{section}.xml")
        django = sitemap_views.sitemap(request, sitemaps=sitemaps, section=section)
        django.render()
        assert ours == entries(django.content), section
        assert ours
    excerpt_days = dict(entries(client.get("/sitemap-excerpts.xml").content))
    assert (
        excerpt_days[f"http://testserver{record.claim.get_absolute_url()}"]
        == record.claim.updated_at.date().isoformat()
    )


# Drafts never leak ---------------------------------------------------------------------------------------

MARKER = "ZQXDRAFTMARKER"


def make_drafts(record):
    """Drafts and unpublished parents carrying the marker in every text field."""
    draft_mission = Mission.objects.create(
        organisation=record.cis,
        election=record.other_election,
        mission_type="eom",
        head=MARKER,
        notes=MARKER,
        sources=MARKER,
        status="draft",
    )
    draft_document = Document.objects.create(
        title=f"{MARKER} draftonlyword",
        kind="final",
        publisher=record.odihr,
        author=MARKER,
        url=f"https://example.org/{MARKER}",
        archive_url=f"https://archive.example.org/{MARKER}",
        notes=MARKER,
        status="in_review",
        election=record.election,
    )
    draft_document.missions.add(record.odihr_mission)
    record.odihr_mission.documents.add(draft_document)
    fields = {
        "text": f"{MARKER} draftonlyword",
        "translation": MARKER,
        "translation_status": "editor",
        "page": MARKER[:20],
        "paragraph": MARKER[:20],
        "fidelity_note": MARKER,
        "stance": "critical",
        "is_headline": True,
    }
    drafts = [
        Excerpt.objects.create(mission=record.odihr_mission, document=record.final_report, status="draft", **fields),
        Excerpt.objects.create(
            mission=record.odihr_mission, document=record.final_report, status="in_review", **fields
        ),
        # Published itself, but in a draft document, or of a draft mission.
        Excerpt.objects.create(mission=record.odihr_mission, document=draft_document, status=PUBLISHED, **fields),
        Excerpt.objects.create(mission=draft_mission, document=record.az_report, status=PUBLISHED, **fields),
    ]
    record.claim.primary_excerpts.add(drafts[0])
    drafts[1].primary_excerpts.add(record.headline)
    record.cis_mission.verdict_excerpt = drafts[0]
    record.cis_mission.verdict = "endorsed"
    record.cis_mission.save()
    return draft_mission, draft_document, drafts


def public_urls(record):
    urls = [reverse("observers:home"), reverse("observers:methodology"), "/sitemap.xml", "/robots.txt"]
    for name in ["election", "organisation", "mission", "document", "excerpt", "characterisation"]:
        urls.append(reverse(f"observers:{name}_list"))
        for fmt in ["csv", "json"]:
            urls.append(reverse(f"observers:{name}_export", kwargs={"format": fmt}))
    urls += [
        reverse("observers:excerpt_list") + "?q=draftonlyword",
        reverse("observers:excerpt_feed"),
        reverse("observers:excerpt_list") + "?stance=critical&headline=on",
        reverse("observers:document_list") + "?q=draftonlyword",
    ]
    for obj in [
        record.election,
        record.other_election,
        record.odihr,
        record.cis,
        record.odihr_mission,
        record.cis_mission,
        record.final_report,
        record.claim,
        record.headline,
    ]:
        urls.append(obj.get_absolute_url())
    for excerpt in [record.claim, record.headline]:
        for fmt in ["bib", "ris"]:
            urls.append(reverse("observers:excerpt_citation", kwargs={"pk": excerpt.pk, "format": fmt}))
    return urls


def test_drafts_never_leak(client, record):
    draft_mission, draft_document, drafts = make_drafts(record)
    for url in public_urls(record):
        response = client.get(url)
        assert response.status_code == 200, url
        assert MARKER not in text_of(response), url
    for obj in [draft_mission, draft_document, *drafts]:
        assert client.get(obj.get_absolute_url()).status_code == 404


# Bad input never makes a 500 ------------------------------------------------------------------------------

BAD_INPUT = [
    ("excerpt_list", "stance=bogus"),
    ("excerpt_list", "country=XX"),
    ("excerpt_list", "organisation=no-such-organisation"),
    ("excerpt_list", "election=no-such-election"),
    ("excerpt_list", "mission=abc"),
    ("excerpt_list", "mission=99999999999999999999999"),
    ("excerpt_list", "document=-1"),
    ("excerpt_list", "year_from=twenty"),
    ("excerpt_list", "year_from=1e10"),
    ("excerpt_list", "year_to=-5"),
    ("excerpt_list", "topic=%00"),
    ("excerpt_list", "language=xx"),
    ("excerpt_list", "headline=maybe"),
    ("excerpt_list", "source=everyone"),
    ("excerpt_list", "fidelity=perfect"),
    ("excerpt_list", "sort=random"),
    ("excerpt_list", "sort=relevance"),
    ("excerpt_list", "page=0"),
    ("excerpt_list", "page=1000000000"),
    ("excerpt_list", "page=abc"),
    ("excerpt_list", "page=-1"),
    ("excerpt_list", "q=" + "x" * 10000),
    ("excerpt_list", "q=%22%22%22"),
    ("excerpt_list", "q=%00%01"),
    ("excerpt_list", "q=%E2%28%A1"),
    ("excerpt_list", "q=NEAR(voting+counting)"),
    ("excerpt_list", "stance=critical&stance=positive&stance=bogus"),
    ("excerpt_list", "page=" + "9" * 5000),
    ("election_list", "year=abc"),
    ("election_list", "kind=coronation"),
    ("election_list", "organisation=%27%3B--"),
    ("organisation_list", "endorser=perhaps"),
    ("organisation_list", "parent=nobody"),
    ("mission_list", "verdict=great&mission_type=x"),
    ("mission_list", "year=99999"),
    ("document_list", "provenance=stolen&year=2016.5"),
    ("document_list", "q=" + "%" * 300),
    ("characterisation_list", "fidelity=excellent&by=nobody"),
    ("excerpt_feed", "stance=bogus&year_from=abc"),
    ("excerpt_export", "stance=bogus&page=abc"),
]


@pytest.mark.parametrize(("name", "query"), BAD_INPUT)
def test_bad_input_gets_a_clear_answer(client, record, name, query):
    kwargs = {"format": "csv"} if name.endswith("_export") else {}
    response = client.get(reverse(f"observers:{name}", kwargs=kwargs) + "?" + query)
    assert response.status_code < 500
    assert response.status_code in (200, 400, 404)
    if response.status_code == 200 and name.endswith("_list") and "page=" not in query and "sort=" not in query:
        page = text_of(response)
        assert "were ignored" in page or "results" in page or "No " in page


def test_invalid_filter_is_reported_and_others_still_apply(client, record):
    response = client.get(reverse("observers:excerpt_list"), {"stance": "bogus", "country": "AZ"})
    assert ids(response) == {record.az_words.pk}
    assert "Some filters were ignored" in text_of(response)
    assert "Select a valid choice" in text_of(response)


def test_out_of_range_page_shows_a_message(client, record):
    response = client.get(reverse("observers:excerpt_list"), {"page": "999"})
    assert response.status_code == 200
    assert "There is no page “999” of these results" in text_of(response)


def test_unknown_detail_is_404(client, record):
    assert client.get("/elections/no-such-election/").status_code == 404
    assert client.get("/excerpts/999999999/").status_code == 404
    assert client.get("/no/such/page/").status_code == 404


# Query counts --------------------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        text_of(response)
    assert response.status_code == 200, url
    return len(queries)


def page_urls(record):
    return [
        reverse("observers:home"),
        reverse("observers:excerpt_list"),
        reverse("observers:excerpt_list") + "?q=finding&sort=relevance&topic=election-administration",
        reverse("observers:excerpt_list") + "?organisation=osce&stance=critical&country=KZ",
        reverse("observers:characterisation_list"),
        reverse("observers:election_list"),
        reverse("observers:organisation_list"),
        reverse("observers:mission_list"),
        reverse("observers:document_list"),
        reverse("observers:excerpt_export", kwargs={"format": "csv"}),
        reverse("observers:excerpt_export", kwargs={"format": "json"}) + "?country=KZ",
        reverse("observers:excerpt_feed"),
        record.election.get_absolute_url(),
        record.odihr.get_absolute_url(),
        record.odihr_mission.get_absolute_url(),
        record.final_report.get_absolute_url(),
        record.claim.get_absolute_url(),
        record.headline.get_absolute_url(),
        "/sitemap.xml",
        reverse("observers:methodology"),
    ]


def test_query_counts_do_not_grow_with_rows(client, record):
    """Every page runs a fixed number of queries: no per-row queries from templates."""
    record.add_excerpts(3)
    small = {url: count_queries(client, url) for url in page_urls(record)}
    record.add_excerpts(40)
    extra = Excerpt.objects.create(
        mission=record.odihr_mission, document=record.op_ed, status=PUBLISHED, stance="positive", text="Another claim"
    )
    extra.primary_excerpts.add(record.headline, record.irregularities)
    large = {url: count_queries(client, url) for url in page_urls(record)}
    assert small == large


def test_no_page_reads_a_field_it_left_unread(client, record):
    # Pages read only the columns they show (QuerySet.only()): a column left unread and then shown
    # costs a query per object, which Django makes through refresh_from_db().
    record.add_excerpts(3)
    with mock.patch.object(Model, "refresh_from_db", autospec=True, side_effect=Model.refresh_from_db) as reads:
        for url in page_urls(record):
            assert client.get(url).status_code == 200, url
            assert reads.call_args_list == [], url


def test_a_page_of_the_whole_list_is_read_as_its_first_page_is(client, record):
    # Asked only for a page (by number, or after a sort key), a list is not filtered: no filter form is
    # built and checked for it, and its rows are those of the whole list.
    record.add_excerpts(30)
    url = reverse("observers:excerpt_list")
    first = client.get(url)
    assert not first.context["filter"].is_bound
    after = first.context["next_key"]
    by_key, by_number = client.get(f"{url}?after={after}"), client.get(f"{url}?page=2")
    for page in (by_key, by_number):
        assert page.status_code == 200
        assert not page.context["filter"].is_bound
    rows = [excerpt.pk for excerpt in by_key.context["object_list"]]
    assert rows == [excerpt.pk for excerpt in by_number.context["object_list"]]
    assert not set(rows) & {excerpt.pk for excerpt in first.context["object_list"]}
    filtered = client.get(f"{url}?stance=critical&after={after}")
    assert filtered.context["filter"].is_bound
    assert {excerpt.stance for excerpt in filtered.context["object_list"]} == {"critical"}


def test_links_that_change_a_filter_start_from_the_first_page(client, record):
    # A facet's link, a filter's removal and the exports drop the page (`after` as `page`): on a
    # continued page as on the first, and on the first after a continued page's facets were cached
    # (they are cached whatever the page).
    record.add_excerpts(30)
    url = reverse("observers:excerpt_list")
    after = client.get(f"{url}?stance=critical").context["next_key"]
    assert after is not None
    cache.clear()
    for response in (
        client.get(f"{url}?stance=critical&after={after}&page=2"),
        client.get(f"{url}?stance=critical"),
    ):
        links = [item["url"] for group in response.context["facet_groups"] for item in group["items"]]
        links += [active["remove_url"] for active in response.context["active_filters"]]
        links += [response.context["csv_url"], response.context["json_url"]]
        assert len(links) > 5 and any("stance=critical" in link for link in links)
        assert not [link for link in links if "after=" in link or "page=" in link]
        # Each facet's link is its own value set, or (the active one) removed, in the query's order.
        for group in response.context["facet_groups"]:
            for item in group["items"]:
                assert item["url"].startswith("?stance=critical&" if group["name"] != "stance" else "?")


def test_no_template_asks_a_row_for_what_it_lacks(client, record, caplog):
    # An attribute that an object lacks costs Django a dir() of the object, and a logged exception,
    # each time a template asks for it: on a page of 25 characterisations, 25 times. (A variable the
    # page's context lacks, such as `preview` off a preview, costs a dictionary lookup.)
    record.add_excerpts(3)
    caplog.set_level(logging.DEBUG, logger="django.template")
    for url in page_urls(record):
        caplog.clear()
        text_of(client.get(url))
        failed = [entry.exc_info[1].params for entry in caplog.records if entry.name == "django.template"]
        assert all(len(params) == 2 for params in failed), url  # VariableDoesNotExist's (name, looked in)
        assert [name for name, looked_in in failed if not isinstance(looked_in, BaseContext)] == [], url


@pytest.mark.parametrize("name", ["election_list", "organisation_list"])
def test_a_list_s_count_reads_only_the_rows_it_counts(client, record, name):
    # Each election and organisation shows its number of missions, a subquery per row listed: the
    # count of the list reads none of them (for 5,000 elections it made the count 10 ms).
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(f"observers:{name}")).status_code == 200
    counts = [query["sql"] for query in queries if query["sql"].startswith("SELECT COUNT(*) FROM (")]
    assert len(counts) == 1
    assert "observers_mission" not in counts[0]
    listed = [query["sql"] for query in queries if query["sql"].startswith("SELECT") and query["sql"] not in counts]
    assert any("observers_mission" in sql for sql in listed)  # the page itself counts them


@pytest.mark.parametrize("rows", [2, 50])
@pytest.mark.parametrize("query", ["", "?organisation=osce", "?organisation=osce&stance=critical&country=KZ", "?q=the"])
def test_excerpt_list_query_budget(client, record, rows, query):
    # A list or search page with F facets runs at most 3 + F queries. On the first visit after the
    # record changed: the count, the page, one query for the facets' values and one for the
    # topics' names they show, and the organisations and topics the form offers (2). Later visits
    # find facets, form and organisations in the cache: the count and the page.
    record.add_excerpts(rows)
    cache.clear()
    url = reverse("observers:excerpt_list") + query
    assert count_queries(client, url) == 2 + 1 + 1 + 2 <= 3 + 5
    assert count_queries(client, url) == 2


@pytest.mark.parametrize("rows", [2, 50])
@pytest.mark.parametrize("query", ["", "?fidelity=selective", "?about=osce"])
def test_characterisation_list_query_budget(client, record, rows, query):
    # A list with F facets (fidelity, by, about) runs at most 3 + F queries. On the first visit after
    # the record changed: the count, the page, the passages each reports, one query for the facets,
    # and the form's organisations and elections (the elections with a characterisation, up to one
    # more than a drop-down list offers, in one query). Later visits: the count, the page and the
    # passages.
    record.add_excerpts(rows)
    cache.clear()
    url = reverse("observers:characterisation_list") + query
    assert count_queries(client, url) == 3 + 1 + 2 <= 3 + 3
    assert count_queries(client, url) == 3


def test_characterisations_of_an_election_only_for_one_that_has_them(client, record, excerpt_factory):
    url = reverse("observers:characterisation_list")
    chosen = client.get(url, {"election": record.election.slug})
    assert chosen.context["paginator"].count == 1
    assert not chosen.context["filter"].invalid()
    # An election whose passages are all the observers' own: no characterisation to filter by.
    primary = excerpt_factory()
    assert primary.mission.election != record.election
    ignored = client.get(url, {"election": primary.mission.election.slug})
    assert "Select a valid choice" in text_of(ignored)
    assert ignored.context["paginator"].count == client.get(url).context["paginator"].count


@pytest.mark.parametrize("rows", [2, 50])
def test_characterisations_of_an_election_query_budget(client, record, rows):
    # As any characterisation list, and the chosen election looked up on every visit: found by its
    # slug, then asked whether it has a published characterisation (one query).
    record.add_excerpts(rows)
    cache.clear()
    url = reverse("observers:characterisation_list") + f"?election={record.election.slug}"
    assert count_queries(client, url) == 3 + 1 + 2 + 1
    assert count_queries(client, url) == 3 + 1


def test_exports_keep_the_missions_and_documents_they_read_until_the_record_changes(client, record):
    # The next export that names the same missions and documents reads only its excerpts' rows; a save
    # anywhere retires what was kept, and the export shows the new values.
    record.add_excerpts(3)
    url = reverse("observers:excerpt_export", kwargs={"format": "csv"})

    def reads():
        with CaptureQueriesContext(connection) as queries:
            text = text_of(client.get(url))
        # Not PostgreSQL's savepoint around a streamed read's cursor: what is read.
        return [query for query in queries if query["sql"].startswith(("SELECT", "DECLARE"))], text

    def texts_remembered():
        # The texts the writers remember of shared columns (see export._written_memos), kept as the
        # missions and documents are.
        from observers import signals

        kept = signals._kept_values(signals.record_version())
        return sum(len(memo) for name, memo in kept.items() if name.startswith("rows:export-written:"))

    first, _ = reads()
    assert len(first) == 4  # its excerpts' rows, their missions, their documents, the topics' names
    remembered = texts_remembered()
    assert remembered > 0
    assert len(reads()[0]) == 1  # the rows alone: the rest is kept, or cached
    assert texts_remembered() == remembered
    document = record.final_report
    document.title = "A corrected title"
    document.save()
    assert texts_remembered() == 0
    after, text = reads()
    assert len(after) == 4 and "A corrected title" in text
    assert texts_remembered() == remembered


@pytest.mark.django_db(transaction=True)
def test_a_change_changes_the_record_version_again_once_committed(document_factory, monkeypatch):
    # Between a save and its commit another process may read the record as it was and cache or keep it
    # under the new version: the commit changes the version once more, whatever the transaction saved.
    from django.db import transaction

    from observers import signals

    committed = []
    monkeypatch.setattr(signals, "_committed", lambda: committed.append(signals._write_version()))
    first, second = document_factory(), document_factory()
    assert committed == []  # saved outside a transaction: committed as they were saved
    with transaction.atomic():
        first.save()
        second.save()
        during = signals.record_version()
        assert committed == []
    assert len(committed) == 1 and signals.record_version() == committed[0] != during


def test_what_a_process_keeps_is_dropped_when_it_is_as_old_as_a_cache_entry(record):
    from observers import signals

    kept, other = signals.kept_for_version("something", "other")
    kept["a"] = 1
    assert signals.kept_for_version("something", "other") == [{"a": 1}, {}]
    signals._kept["since"] -= signals.CACHE_SECONDS + 1  # time passes, and nothing changes the record
    assert signals.kept_for_version("something") == [{}]


def facet_counts(client, url, name):
    groups = client.get(url).context["facet_groups"]
    return {item["label"]: item["count"] for group in groups if group["name"] == name for item in group["items"]}


def test_facets_and_form_are_cached_until_the_record_changes(client, record):
    url = reverse("observers:excerpt_list") + "?country=KZ"
    cold = count_queries(client, url)
    warm = count_queries(client, url)
    # The facets' values (one query for the five) and their topics' names, and the form's two
    # database-backed choice lists.
    assert warm == cold - 2 - 2
    stance = facet_counts(client, url, "stance")
    assert stance["Critical"] == 2
    record.add_excerpts(1)  # saving an excerpt retires the cached counts
    stance = facet_counts(client, url, "stance")
    assert stance["Critical"] == 3


def test_relevance_with_no_match_and_on_a_later_page(client, record):
    response = client.get(reverse("observers:excerpt_list"), {"q": "nosuchwordanywhere", "sort": "relevance"})
    assert response.status_code == 200 and ids(response) == set()
    record.add_excerpts(30)
    first = client.get(reverse("observers:excerpt_list"), {"q": "finding", "sort": "relevance"})
    second = client.get(reverse("observers:excerpt_list"), {"q": "finding", "sort": "relevance", "page": 2})
    assert len(first.context["object_list"]) == 25 and len(second.context["object_list"]) == 5
    assert not ids(first) & ids(second)


def test_a_characterisation_reporting_another_mission_s_passage_names_that_mission(client, record):
    # The election and mission pages attach to each passage its mission, read once for the page; a
    # passage of another mission that a characterisation reports has its own mission read too.
    record.claim.primary_excerpts.add(record.az_words)
    for url in (record.election.get_absolute_url(), record.odihr_mission.get_absolute_url()):
        response = client.get(url)
        comparison = next(c for c in response.context["characterisations"] if c.pk == record.claim.pk)
        reported = {excerpt.pk: excerpt for excerpt in comparison.primary_excerpts.all()}
        assert reported[record.az_words.pk].mission == record.az_mission
        assert reported[record.az_words.pk].mission.organisation == record.az_mission.organisation
        assert record.az_words.text[:40] in text_of(response)


def test_election_and_mission_pages_shorten_long_missions_and_link_to_the_rest(client, record):
    # More passages than the pages show: the headline conclusion stays, the rest are one link away.
    mission = record.odihr_mission
    document = record.headline.document
    for n in range(views.MISSION_PASSAGES_SHOWN + 3):
        Excerpt.objects.create(
            mission=mission, document=document, text=f"Passage number {n} of many.", stance="neutral",
            page=str(n), status=Excerpt.Status.PUBLISHED,
        )  # fmt: skip
    total = Excerpt.objects.published().primary().filter(mission=mission).count()
    link = f"/excerpts/?mission={mission.pk}&amp;source=primary"
    for url, limit, passages in [
        (record.election.get_absolute_url(), views.OWN_WORDS_SHOWN, lambda r: next(
            m.own_words for m in r.context["missions"] if m.pk == mission.pk)),
        (mission.get_absolute_url(), views.MISSION_PASSAGES_SHOWN, lambda r: r.context["own_words"]),
    ]:  # fmt: skip
        response = client.get(url)
        assert sum(len(group) for _, group in passages(response)) == limit
        assert record.headline.text[:40] in text_of(response)
        assert f"All {total} passages in its own words" in text_of(response)
        assert link in response.content.decode()
    listed = client.get(f"/excerpts/?mission={mission.pk}&source=primary")
    assert listed.context["paginator"].count == total
