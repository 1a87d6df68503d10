"""An organisation's lists, which take in its member bodies, read in their order (observers.ordered):
the same rows, pages and facets as the plain query, and on SQLite no sort of the family's rows."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from observers import plans
from observers.models import Document, Excerpt, Mission, Organisation
from observers.ordered import MOST_ARMS, in_key_order
from tests.conftest import make_document, make_election, make_excerpt, make_mission, make_organisation

PUBLISHED = Excerpt.Status.PUBLISHED
pytestmark = pytest.mark.django_db


@pytest.fixture
def family():
    """A parent body, its member, the member's own member, and an outsider; 60 excerpts whose dates
    interleave, of every stance and three kinds of document, in two countries; a third of the
    family's excerpts characterisations, in the outsider's words."""
    parent = make_organisation(slug="parent")
    child = make_organisation(slug="child", parent=parent)
    grandchild = make_organisation(slug="grandchild", parent=child)
    outsider = make_organisation(slug="outsider")
    bodies = [parent, child, grandchild, outsider]
    elections = [make_election(country="KZ"), make_election(country="AM")]
    missions = {
        (body.pk, election.pk): make_mission(organisation=body, election=election, status=PUBLISHED)
        for body in bodies
        for election in elections
    }
    stances = [choice for choice, _ in Excerpt.Stance.choices]
    kinds = [Document.Kind.FINAL, Document.Kind.INTERIM, Document.Kind.PRELIMINARY]
    for n in range(60):
        body, election = bodies[n % 4], elections[n % 3 % 2]
        # Every third, of a family's body, in the outsider's words: a characterisation.
        characterised = n % 3 == 0 and body != outsider
        document = make_document(
            publisher=outsider if characterised else body,
            kind=kinds[n % 3],
            date=datetime.date(2020, 1, 1) + datetime.timedelta(days=(n * 37) % 61),
            status=PUBLISHED,
            election=election,
        )
        make_excerpt(
            mission=missions[body.pk, election.pk],
            document=document,
            stance=stances[n % len(stances)],
            status=PUBLISHED,
        )
    return {"parent": parent, "child": child, "grandchild": grandchild}


def listed(response):
    return [excerpt.pk for excerpt in response.context["object_list"]]


def assert_merged_on_sqlite(sql, arms):
    """On SQLite, one arm per body, merged in order as SQLite reads them: no sort. Elsewhere, one
    query as it was."""
    if connection.vendor != "sqlite":
        assert " UNION " not in sql
        return
    assert sql.count(" UNION ALL ") == arms - 1
    lines = plans.plan(sql.replace("%", "%%"))
    assert "MERGE (UNION ALL)" in lines, lines
    assert not [line for line in lines if "TEMP B-TREE" in line], lines


def expected(family, *, oldest=False, **conditions):
    members = [family["parent"].pk, family["child"].pk, family["grandchild"].pk]
    rows = Excerpt.objects.published().filter(organisation__in=members, **conditions)
    return list(rows.order_by("sort_key" if oldest else "-sort_key").values_list("pk", flat=True))


@pytest.mark.parametrize(
    "query, conditions",
    [({}, {}),
     ({"stance": "critical"}, {"stance": "critical"}),
     ({"country": "KZ"}, {"country": "KZ"}),
     ({"document_kind": "final"}, {"document_kind": "final"}),
     ({"sort": "oldest"}, {})],
)  # fmt: skip
def test_a_family_s_excerpts_come_in_the_list_s_order_page_after_page(client, family, query, conditions):
    url = reverse("observers:excerpt_list")
    asked = {"organisation": "parent", **query}
    want = expected(family, oldest=query.get("sort") == "oldest", **conditions)
    assert len(want) > 5
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url, asked)
    # (Read now: the next request empties the connection's log.)
    read = [q["sql"] for q in queries.captured_queries if '"observers_excerpt"."text"' in q["sql"]]
    assert listed(first) == want[:25]
    if len(want) > 25:
        assert listed(client.get(url, asked | {"page": 2})) == want[25:50]
    # Page after page, after each page's last sort key, until the family's rows run out.
    page, rows = first, []
    while True:
        rows += listed(page)
        if not page.context["next_key"]:
            break
        page = client.get(url, asked | {"after": page.context["next_key"]})
    assert rows == want
    assert len(read) == 1
    assert_merged_on_sqlite(read[0], arms=3)


def test_a_family_s_facets_count_its_rows(client, family):
    response = client.get(reverse("observers:excerpt_list"), {"organisation": "parent"})
    groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
    members = Excerpt.objects.published().filter(pk__in=expected(family))
    stances = dict(members.order_by().values_list("stance").annotate(n=Count("*")))
    labels = dict(Excerpt.Stance.choices)
    assert {item["label"]: item["count"] for item in groups["stance"]} == {
        labels[stance]: n for stance, n in stances.items()
    }
    bodies = dict(members.order_by().values_list("organisation__name").annotate(n=Count("*")))
    assert {item["label"]: item["count"] for item in groups["organisation"]} == bodies
    assert len(bodies) == 3


def test_the_characterisations_about_a_family_come_in_order(client, family):
    response = client.get(reverse("observers:characterisation_list"), {"about": "parent"})
    want = expected(family, is_characterisation=True)
    assert 5 < len(want) <= 25
    assert listed(response) == want


def test_what_is_not_split():
    # Read as it is: on PostgreSQL; a condition under OR or NOT; too many values; values that leave
    # out the column the list is ordered by; an ordering no index continues.
    members = list(range(1, MOST_ARMS + 2))
    plain = Excerpt.objects.published().filter(organisation__in=[1, 2]).order_by("-sort_key")
    sqlite = connection.vendor == "sqlite"
    assert (in_key_order(plain).query.combinator == "union") is sqlite
    from django.db.models import Q

    either = Excerpt.objects.filter(Q(organisation__in=[1, 2]) | Q(stance="critical")).order_by("-sort_key")
    unlike = Excerpt.objects.exclude(organisation__in=[1, 2]).order_by("-sort_key")
    many = Excerpt.objects.filter(organisation__in=members).order_by("-sort_key")
    unselected = plain.values_list("stance")
    by_text = Excerpt.objects.filter(organisation__in=[1, 2]).order_by("text")
    missions = Mission.objects.filter(organisation__in=[1, 2])
    # Rows grouped, made distinct, ordered by hand-written SQL, or without their sort key.
    grouped = plain.values("stance").annotate(n=Count("id")).order_by("stance")
    distinct = plain.values_list("stance", flat=True).distinct().order_by("stance")
    by_sql = Excerpt.objects.filter(organisation__in=[1, 2]).extra(order_by=["text"])  # noqa: S610
    deferred = plain.defer("sort_key")
    others = plain.only("text")
    for queryset in (either, unlike, many, unselected, by_text, missions, grouped, distinct, by_sql, deferred, others):
        assert in_key_order(queryset) is queryset
    # Each value once, and no NULL: as Django writes the condition.
    repeated = Excerpt.objects.filter(organisation__in=[2, 1, 2, None]).order_by("-sort_key")
    if sqlite:
        assert len(in_key_order(repeated).query.combined_queries) == 2
    single = Excerpt.objects.filter(organisation__in=[1, 1, None]).order_by("-sort_key")
    assert in_key_order(single) is single
    # A slice keeps its bounds.
    sliced = in_key_order(plain[5:30])
    assert (sliced.query.low_mark, sliced.query.high_mark) == (5, 30)


def test_an_empty_page_and_a_page_past_the_end(client, family):
    url = reverse("observers:excerpt_list")
    empty = client.get(url, {"organisation": "parent", "q": "nowhere-to-be-found"})
    assert empty.status_code == 200
    assert listed(empty) == []
    # After a key below every row's: no row, read as a merge.
    after = client.get(url, {"organisation": "parent", "after": 1})
    assert after.status_code == 200
    assert listed(after) == []
    assert not after.context["next_key"]
    past = client.get(url, {"organisation": "parent", "page": 99})
    assert past.status_code == 200
    assert listed(past) == expected(family)[25:50]


def test_a_family_s_documents_come_in_the_list_s_order(client, family):
    # The list is ordered by "-date" then "pk", which an index names by the primary key's own name
    # ("id"): the same rows and pages, merged on SQLite as they are read.
    members = [family["parent"].pk, family["child"].pk, family["grandchild"].pk]
    want = list(
        Document.objects.published().filter(publisher__in=members).order_by("-date", "pk").values_list("pk", flat=True)
    )
    assert len(want) > 25
    url = reverse("observers:document_list")
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url, {"publisher": "parent"})
    read = [q["sql"] for q in queries.captured_queries if '"observers_document"."title"' in q["sql"]]
    assert listed(first) == want[:25]
    assert listed(client.get(url, {"publisher": "parent", "page": 2})) == want[25:50]
    assert len(read) == 1
    assert_merged_on_sqlite(read[0], arms=3)
    # The facets count the same rows.
    groups = {group["name"]: group["items"] for group in first.context["facet_groups"]}
    kinds = dict(Document.objects.filter(pk__in=want).order_by().values_list("kind").annotate(n=Count("*")))
    labels = dict(Document.Kind.choices)
    assert {item["label"]: item["count"] for item in groups["kind"]} == {labels[kind]: n for kind, n in kinds.items()}
    publishers = dict(
        Document.objects.filter(pk__in=want).order_by().values_list("publisher__name").annotate(n=Count("*"))
    )
    assert {item["label"]: item["count"] for item in groups["publisher"]} == publishers


def test_the_characterisations_by_an_author_come_in_order_from_its_copy(client, family):
    # An excerpt keeps a copy of its document's publisher: the characterisations by an author are read
    # in the list's order from an index of that copy, without the documents, and counted by it.
    want = list(
        Excerpt.objects.published()
        .characterisations()
        .filter(document__publisher__slug="outsider")
        .order_by("-sort_key")
        .values_list("pk", flat=True)
    )
    assert 5 < len(want) <= 25
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("observers:characterisation_list"), {"by": "outsider"})
    read = [q["sql"] for q in queries.captured_queries if '"observers_excerpt"."text"' in q["sql"]]
    assert listed(response) == want
    (page,) = [sql for sql in read if "_prefetch_related_val" not in sql]
    assert '"observers_excerpt"."document_publisher_id" =' in page
    if connection.vendor == "sqlite":
        lines = plans.plan(page.replace("%", "%%"))
        assert any("INDEX excerpt_public_char_by_key (document_publisher_id=?)" in line for line in lines), lines
        assert not [line for line in lines if "TEMP B-TREE" in line], lines
    else:
        # Its planner is told that an author's excerpts are nearly all characterisations, or not.
        with connection.cursor() as cursor:
            cursor.execute("SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'observers_excerpt'::regclass")
            assert ("excerpt_publisher_char",) in cursor.fetchall()
    groups = {group["name"]: group["items"] for group in response.context["facet_groups"]}
    outsider = Organisation.objects.get(slug="outsider")
    assert [(item["label"], item["count"]) for item in groups["by"]] == [(outsider.name, len(want))]
