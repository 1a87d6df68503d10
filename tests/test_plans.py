"""No query behind a public page reads a large table whole or sorts what it read whole.

The record here is synthetic and of a realistic shape (see generate_synthetic), with the planner's
statistics gathered; each page of the benchmark is requested and the database's own plan for every
query it ran is read (observers/plans.py). Counts per value (facets, the home page's numbers) read
their index whole by nature: they are cached under the record's version and left out here.
"""

import io
import json
import re
import tracemalloc

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from observers import filters, plans
from observers.management.commands import benchmark
from observers.management.commands.benchmark import Command as Benchmark
from observers.models import Election, Excerpt, Mission, Organisation
from observers.ordered import in_key_order
from observers.views import excerpt_cards

# The synthetic record's size: realistic enough for the planner, and the export size the memory
# limit is stated for.
SIZE = 100_000

# The synthetic record is loaded once for the module, outside any test's transaction (its loader
# changes indexes); each test runs in its own transaction on the test database.
pytestmark = pytest.mark.django_db
MEMORY_LIMIT = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def synthetic_record(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("generate_synthetic", excerpts=SIZE, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        yield
        call_command("generate_synthetic", excerpts=0, replace=True, verbosity=0)


def test_no_page_reads_a_large_table_whole(synthetic_record, client, django_db_blocker):
    found = {}
    with django_db_blocker.unblock():
        pages = Benchmark().pages()
        assert len(pages) > 30
        for name, url in pages:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
                if response.streaming:
                    b"".join(response.streaming_content)
            assert response.status_code == 200, url
            for query in queries.captured_queries:
                sql = query["sql"]
                if not sql.startswith(("SELECT", "WITH")) or plans.is_facet(sql):
                    continue
                problems = plans.problems(sql.replace("%", "%%"))
                if problems:
                    found[f"{name}: {sql[:200]}"] = problems
    assert found == {}


def test_the_check_sees_a_whole_read_and_a_sort(synthetic_record, django_db_blocker):
    # The same check, shown failing on queries that do what it forbids.
    with django_db_blocker.unblock():
        check_the_check()


@pytest.mark.parametrize(
    "query",
    ["", "?stance=critical", "?organisation=synthetic-org-0000", "?organisation=synthetic-org-0000&country=TM",
     "?organisation=synthetic-org-0000&document_kind=final", "?country=TM"],
)  # fmt: skip
def test_a_lists_facets_read_its_first_rows_from_an_index_alone(synthetic_record, client, django_db_blocker, query):
    # The indexes that order the excerpt list hold every column its facets count: its facets read
    # no table row (SQLite's "COVERING INDEX", PostgreSQL's "Index Only Scan").
    with django_db_blocker.unblock():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/excerpts/{query}").status_code == 200
        facets = [
            q["sql"] for q in queries.captured_queries if q["sql"].startswith(("WITH first ", "SELECT GROUPING("))
        ]
        assert len(facets) == 1
        lines = plans.plan(facets[0].replace("%", "%%"))
    reads = [line for line in lines if "observers_excerpt" in line]
    assert reads, lines
    # On SQLite, read in the list's order, not sorted: the heaviest organisation's filter takes in its
    # member body, whose rows it merges in order (observers.ordered).
    if connection.vendor == "sqlite":
        assert all("USING COVERING INDEX excerpt_public_" in line for line in reads), reads
        assert not [line for line in lines if "TEMP B-TREE" in line], lines
    else:
        assert all(line.startswith("Index Only Scan") for line in reads), reads
        # PostgreSQL sorts what it read of each body in turn, at most the rows a facet counts.
        assert plans.problems(facets[0].replace("%", "%%")) == []


@pytest.mark.parametrize(
    "query",
    ["?headline=on", "?organisation=synthetic-org-0000&headline=on", "?stance=critical&headline=on",
     "?fidelity=selective", "?language=ru", "?language=en"],
)  # fmt: skip
def test_a_filter_few_excerpts_match_is_read_from_an_index_of_its_own(
    synthetic_record, client, django_db_blocker, query
):
    # The whole list's index hands out rows in order whatever the filter, and a filter that few rows
    # match then reads most of it: to fill a page, to count the first 10,001 (a bounded count, which
    # the plans check leaves alone), and for the facets. (No excerpt is in Russian.)
    with django_db_blocker.unblock():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/excerpts/{query}").status_code == 200
        read = [q["sql"] for q in queries.captured_queries if '"observers_excerpt"' in q["sql"]]
        assert len(read) >= 2  # the count and the page (the facets too, when there is a row)
        for sql in read:
            lines = plans.plan(sql.replace("%", "%%"))
            whole = [line for line in lines if WHOLE_LIST.fullmatch(line)]
            assert not whole, (sql, lines)
            assert not plans.problems(sql.replace("%", "%%")), (sql, lines)


# The excerpt table, or the whole list's index, read from its start (on SQLite).
WHOLE_LIST = re.compile(
    r"SCAN observers_excerpt( USING (COVERING )?INDEX (excerpt_public_by_key|sqlite_autoindex_observers_excerpt_1))?"
)


@pytest.mark.parametrize("query", ["", "?q=report", "?status__exact=published&kind__exact=final"])
def test_the_admin_s_document_list_reads_documents_in_its_order(
    synthetic_record, superuser_client, django_db_blocker, query
):
    # An index in the admin's order: the page is read in order and stops, searched (for a word most
    # titles hold) or filtered, instead of sorting every match.
    with django_db_blocker.unblock():
        with CaptureQueriesContext(connection) as queries:
            assert superuser_client.get(f"/admin/observers/document/{query}").status_code == 200
        pages = [q["sql"] for q in queries.captured_queries if 'ORDER BY "observers_document"."date" DESC' in q["sql"]]
        assert len(pages) == 1
        assert plans.problems(pages[0].replace("%", "%%")) == []
        lines = plans.plan(pages[0].replace("%", "%%"))
    if connection.vendor == "sqlite":
        # Its own index, or a kind's read in date order with only each day's documents sorted
        # ("RIGHT PART OF ORDER BY", as PostgreSQL's incremental sort below): either stops at the page.
        text = " ".join(lines)
        assert "USING INDEX document_by_date_title" in text or (
            "INDEX document_published_kind (kind=?)" in text
            and not [line for line in lines if "TEMP B-TREE" in line and "RIGHT PART OF ORDER BY" not in line]
        ), lines
    else:
        # With the statistics of the searched expressions (migration 0018), not a sort of every match
        # (an incremental sort of an index read in date order stops at the page too).
        assert not any(line.startswith("Sort ") for line in lines), lines


def check_the_check():
    whole = 'SELECT "observers_excerpt"."id" FROM "observers_excerpt" WHERE "observers_excerpt"."text" LIKE %s'
    sort = 'SELECT "observers_excerpt"."id" FROM "observers_excerpt" ORDER BY "observers_excerpt"."text" LIMIT 5'
    assert plans.problems(whole, ["%x%"])
    assert plans.problems(sort)
    assert not plans.problems(
        'SELECT "observers_excerpt"."id" FROM "observers_excerpt" WHERE "observers_excerpt"."public" '
        'ORDER BY "observers_excerpt"."sort_key" DESC LIMIT 25'
    )
    if connection.vendor == "sqlite":
        # Reading an index in order and then sorting on something else reads it all.
        assert plans.problems(
            'SELECT "observers_excerpt"."id" FROM "observers_excerpt" INDEXED BY excerpt_public_by_key '
            'WHERE "observers_excerpt"."public" ORDER BY "observers_excerpt"."text" LIMIT 5'
        )
        # A search by an index that most of the table's rows match (nearly every mission is
        # published), sorted on something else, reads the table nearly whole; read in the order of
        # an index that holds it, it stops at the page.
        published = ["published"]
        assert plans.problems(
            'SELECT "observers_mission"."id" FROM "observers_mission" WHERE "observers_mission"."status" = %s '
            'ORDER BY "observers_mission"."head" LIMIT 5',
            published,
        )
        assert not plans.problems(
            'SELECT "observers_mission"."id" FROM "observers_mission" WHERE "observers_mission"."status" = %s '
            'ORDER BY "observers_mission"."election_date" DESC, "observers_mission"."election_id" DESC, '
            '"observers_mission"."id" LIMIT 25',
            published,
        )
        # The heaviest organisation's family (it and its member body), searched by organisation and
        # sorted: the statistics' average organisation is light, so only the rows counted tell. Read
        # as one arm per body, merged in order, nothing is sorted.
        heaviest = Organisation.objects.get(slug="synthetic-org-0000")
        family = excerpt_cards().filter(organisation__in=filters.organisation_family(heaviest))[:25]
        assert plans.problems(*family.query.sql_with_params()) == [
            f"sorts more than {plans.SORT_LIMIT:,} rows it searched for"
        ]
        assert plans.problems(*in_key_order(family).query.sql_with_params()) == []
        # The elections with characterisations, for a drop-down list: their ids read in order from an
        # index in a subquery, each once, stopping at the 101st. The missions of characterisations,
        # which no such index orders, are read whole and sorted.
        characterised = Excerpt.objects.published().characterisations()
        for model, column, sorted_whole in ((Election, "election", False), (Mission, "mission", True)):
            ids = characterised.exclude(**{column: None}).values(column).order_by(column).distinct()
            listed = model.objects.filter(pk__in=ids[: filters.SELECT_LIMIT + 1]).order_by("pk")
            sql, params = listed.query.sql_with_params()
            assert plans.is_distinct_values(sql)
            found = plans.problems(sql, params)
            assert bool(found) is sorted_whole, found
        # A subquery's table has an alias (U0), which SQLite's plan names it by: an election looked up
        # among those with a characterisation, as `pk IN (…)`, read every characterisation first.
        election = Election.objects.filter(pk__in=characterised.values("election")).filter(slug="x")[:21]
        sql, params = election.query.sql_with_params()
        assert '"observers_excerpt" U0' in sql
        assert plans.problems(sql, params) == [
            "reads a large table whole: SCAN observers_excerpt AS U0 USING COVERING INDEX excerpt_public_char_election"
        ]
    # Sorting the first rows of an ordered read (relevance ranks the first matches) is bounded.
    assert not plans.problems(
        'SELECT first.id FROM (SELECT "observers_excerpt"."id", "observers_excerpt"."text" FROM "observers_excerpt" '
        'WHERE "observers_excerpt"."public" ORDER BY "observers_excerpt"."sort_key" DESC LIMIT 1000) first '
        "ORDER BY first.text LIMIT 5"
    )


def test_an_export_of_every_row_streams_in_bounded_memory(synthetic_record, client, django_db_blocker):
    """Python's own allocations while the whole export streams, measured by tracemalloc: what would
    grow with the number of rows if anything held them all."""
    with django_db_blocker.unblock():
        expected = Excerpt.objects.published().count()
        response = client.get("/excerpts.csv")
        assert response.streaming
        tracemalloc.start()
        try:
            lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert lines >= expected + 1  # the header, and every row (a text may hold line breaks too)
    assert peak < MEMORY_LIMIT


def test_the_benchmark_measures_every_page_and_the_admin_and_leaves_the_record_as_it_was(
    synthetic_record, django_db_blocker, tmp_path
):
    page_cache = settings.PAGE_CACHE
    with django_db_blocker.unblock():
        users = get_user_model().objects.count()
        output = io.StringIO()
        call_command("benchmark", runs=1, load=0, json=str(tmp_path / "report.json"), stdout=output)
        assert get_user_model().objects.count() == users
    assert page_cache == settings.PAGE_CACHE
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["pages"]) == len(Benchmark().pages()) and len(report["admin"]) > 20
    assert report["machine_ms"]["before"] > 0 and report["machine_ms"]["after"] > 0
    for result in report["pages"] + report["admin"]:
        assert result["queries"] > 0 and result["kilobytes"] > 0 and result["median_ms"] > 0, result
        # The SQL's time, executing and fetching (see fetches_timed), is part of the page's time.
        assert 0 < result["sql_ms"] <= result["median_ms"], result
    assert all(result["plan_problems"] == [] for result in report["pages"])
    # Django's cursor passes fetches on to the driver again, untimed.
    assert not {"fetchone", "fetchmany", "fetchall"} & set(CursorWrapper.__dict__)
    # Each target is judged from the numbers the report holds, and printed.
    verdicts = {verdict["target"]: verdict["met"] for verdict in report["targets"]}
    pages = report["pages"]
    assert verdicts[f"every public page's median at most {benchmark.PAGE_MEDIAN_MS} ms"] == all(
        result["median_ms"] <= benchmark.PAGE_MEDIAN_MS for result in pages
    )
    assert verdicts[f"every public page's time beyond its SQL at most {benchmark.BEYOND_SQL_MS} ms"] == all(
        result["beyond_sql_ms"] <= benchmark.BEYOND_SQL_MS for result in pages
    )
    assert verdicts[f"every admin page's median at most {benchmark.ADMIN_MEDIAN_MS} ms"] == all(
        result["median_ms"] <= benchmark.ADMIN_MEDIAN_MS for result in report["admin"]
    )
    assert verdicts["no query reads a large table whole or sorts it"] is True
    assert len(verdicts) == 6  # no load run: no load targets
    printed = output.getvalue()
    assert all(verdict["target"] in printed for verdict in report["targets"])
    missed = sum(not met for met in verdicts.values())
    assert (f"{missed} of 6 targets missed." if missed else "Every target measured here is met.") in printed


def test_the_benchmark_names_the_pages_and_loads_that_miss_a_target():
    def page(name, median, beyond=1.0):
        return {"page": name, "median_ms": median, "p95_ms": median, "beyond_sql_ms": beyond, "plan_problems": []}

    report = {
        "pages": [page("excerpts", 8.0), page("excerpts deep page (10,000th)", 30.0), page("export", 55.0, 31.0)],
        "admin": [page("admin: documents", 301.0)],
        "load": {
            "filtered list, nothing cached": {"requests_per_second": 59.9, "errors": 0},
            "mix, caching on": {"requests_per_second": 1500.0, "errors": 2},
        },
    }
    found = {verdict["target"]: verdict for verdict in benchmark.verdicts(report)}
    missed = {target: verdict["detail"] for target, verdict in found.items() if not verdict["met"]}
    assert missed == {
        "every public page's time beyond its SQL at most 30 ms": "export 31.0 ms",
        "the deep page as fast as the first (median at most 1.25 times)": "30.0 ms against 8.0 ms",
        "every admin page's median at most 300 ms": "admin: documents 301.0 ms",
        "load, filtered list, nothing cached: at least 60 requests/s": "59.9 requests/s",
        "no errors under load": "2 errors",
    }
    assert found["every public page's median at most 100 ms"]["detail"] == "slowest export 55.0 ms"
    assert found["load, mix, caching on: at least 300 requests/s"]["met"]


def test_a_target_reached_exactly_is_met_and_a_run_that_measures_nothing_judges_nothing():
    def page(name, median, p95, beyond):
        return {"page": name, "median_ms": median, "p95_ms": p95, "beyond_sql_ms": beyond, "plan_problems": []}

    report = {
        "only": "excerpts",
        "pages": [page("excerpts", 80.0, 250.0, 30.0), page("excerpts deep page (10,000th)", 100.0, 100.0, 1.0)],
        "admin": [page("admin: documents", 300.0, 300.0, 1.0)],
        "load": {
            "filtered list, nothing cached": {"requests_per_second": 60.0, "errors": 0},
            "mix, caching on": {"requests_per_second": 300.0, "errors": 0},
        },
    }
    found = benchmark.verdicts(report)
    assert len(found) == 9 and all(verdict["met"] for verdict in found), found
    # Measured under --only: what was measured, not every page.
    assert found[0]["target"] == "every measured public page's median at most 100 ms"
    report["pages"][0]["p95_ms"] = 250.1
    assert [verdict["detail"] for verdict in benchmark.verdicts(report) if not verdict["met"]] == ["excerpts 250.1 ms"]
    # No first page or no deep page: nothing to compare; nothing measured: nothing judged.
    report["pages"] = report["pages"][1:]
    assert not any("deep page" in verdict["target"] for verdict in benchmark.verdicts(report))
    assert benchmark.verdicts({"pages": [], "admin": []}) == []


def test_sqlite_s_plan_names_an_aliased_table_by_its_table():
    # SQLite names a table under an alias by the alias alone; sibling subqueries may each have a U0,
    # and a large table's name is the one kept.
    sql = (
        'SELECT 1 FROM "observers_election" WHERE "observers_election"."id" IN (SELECT U0."id" FROM '
        '"observers_excerpt" U0) AND EXISTS(SELECT 1 FROM "observers_topic" U0 INNER JOIN "observers_organisation" '
        'T4 ON (U0."id" = T4."id"))'
    )
    lines = ["SCAN U0", "SEARCH T4 USING INTEGER PRIMARY KEY (rowid=?)", "SCAN observers_election", "LIST SUBQUERY 1"]
    assert plans._named_tables(lines, sql) == [
        "SCAN observers_excerpt AS U0",
        "SEARCH observers_organisation AS T4 USING INTEGER PRIMARY KEY (rowid=?)",
        "SCAN observers_election",
        "LIST SUBQUERY 1",
    ]
