"""What keeps large lists fast: the sort key, continuing after a key, search in the list's order,
relevance over a bounded set, and whole pages cached and revalidated under the record's version."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from observers import search
from observers.models import SORT_DAY, Excerpt, Publishable, make_sort_key

from .conftest import make_document, make_excerpt, make_mission, make_organisation

PUBLISHED = Publishable.Status.PUBLISHED
LIST = "/excerpts/"


def published_excerpts(count, words="The elections were well administered", dates=None):
    organisation = make_organisation()
    mission = make_mission(organisation=organisation, status=PUBLISHED)
    excerpts = []
    for n in range(count):
        date = dates[n % len(dates)] if dates else datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 7)
        document = make_document(publisher=organisation, status=PUBLISHED, date=date)
        excerpts.append(
            make_excerpt(mission=mission, document=document, status=PUBLISHED, text=f"{words} (passage {n}).")
        )
    return excerpts


def ids_on(response):
    return [excerpt.pk for excerpt in response.context["object_list"]]


def next_link(response):
    found = re.search(r'href="([^"]*)" rel="next"', response.content.decode())
    return found and found.group(1).replace("&amp;", "&")


def walk(client, url):
    """Every page of a list, following "Next" as a reader does: the ids in the order shown."""
    seen, pages = [], 0
    while url:
        response = client.get(url if url.startswith("/") else LIST + url)
        assert response.status_code == 200
        seen.extend(ids_on(response))
        url, pages = next_link(response), pages + 1
        assert pages < 50
    return seen, pages


@pytest.mark.django_db
def test_the_sort_key_is_the_document_date_then_the_id():
    excerpt = published_excerpts(1, dates=[datetime.date(2021, 3, 4)])[0]
    assert excerpt.sort_key == make_sort_key(datetime.date(2021, 3, 4), excerpt.pk)
    assert excerpt.sort_key == (datetime.date(2021, 3, 4) - datetime.date(1900, 1, 1)).days * SORT_DAY + excerpt.pk
    excerpt.refresh_from_db()
    assert excerpt.sort_key == make_sort_key(datetime.date(2021, 3, 4), excerpt.pk)


@pytest.mark.django_db
def test_a_new_document_date_moves_its_excerpts_and_search_still_finds_them(client):
    excerpt = published_excerpts(1, words="Quokkas voted early", dates=[datetime.date(2021, 3, 4)])[0]
    document = excerpt.document
    document.date = datetime.date(2024, 5, 6)
    document.save()
    excerpt.refresh_from_db()
    assert excerpt.sort_key == make_sort_key(datetime.date(2024, 5, 6), excerpt.pk)
    assert ids_on(client.get(LIST + "?q=quokkas")) == [excerpt.pk]
    Excerpt.objects.filter(pk=excerpt.pk).delete()
    assert ids_on(client.get(LIST + "?q=quokkas")) == []


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?q=administered", "?sort=oldest", "?q=administered&sort=oldest"])
def test_following_next_shows_every_row_once_in_order(client, query):
    excerpts = published_excerpts(60)
    newest_first = "oldest" not in query
    expected = [e.pk for e in sorted(excerpts, key=lambda e: e.sort_key, reverse=newest_first)]
    seen, pages = walk(client, LIST + query)
    assert seen == expected
    assert pages == 3


@pytest.mark.django_db
def test_a_page_after_a_key_needs_no_offset_and_no_count_of_what_it_skips(client):
    excerpts = sorted(published_excerpts(30), key=lambda e: e.sort_key, reverse=True)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{LIST}?after={excerpts[24].sort_key}")
    assert ids_on(response) == [e.pk for e in excerpts[25:]]
    assert "Continued list" in response.content.decode()
    page_query = next(q["sql"] for q in queries.captured_queries if "LIMIT 26" in q["sql"])
    assert "OFFSET" not in page_query
    assert f"{excerpts[24].sort_key}" in page_query  # the key is the condition


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["abc", "1e9", "", "99999999999999999999999", "%00"])
def test_a_malformed_continue_link_shows_the_first_page_with_a_notice(client, bad):
    excerpts = published_excerpts(3)
    response = client.get(f"{LIST}?after={bad}")
    assert response.status_code == 200
    assert sorted(ids_on(response)) == sorted(e.pk for e in excerpts)
    assert "not valid" in response.context["page_notice"]


@pytest.mark.django_db
def test_relevance_puts_the_best_match_first_and_keeps_every_match(client):
    excerpts = published_excerpts(5, words="Turnout was reported")
    best = make_excerpt(
        mission=excerpts[0].mission,
        document=excerpts[0].document,
        status=PUBLISHED,
        text="Turnout, turnout, turnout: turnout everywhere.",
    )
    response = client.get(f"{LIST}?q=turnout&sort=relevance")
    shown = ids_on(response)
    assert shown[0] == best.pk
    assert sorted(shown) == sorted([best.pk, *(e.pk for e in excerpts)])


@pytest.mark.django_db
def test_search_reads_the_index_in_the_list_order_without_sorting(client):
    published_excerpts(3)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{LIST}?q=administered")
    pages = [q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"] and "GROUP BY" not in q["sql"]]
    page_query = next(sql for sql in pages if "ORDER BY" in sql)
    if connection.vendor == "sqlite":
        assert "MATCH" in page_query and '"observers_excerpt_fts"."oid" DESC' in page_query
        with connection.cursor() as cursor:
            plan = " ".join(str(row) for row in cursor.execute(f"EXPLAIN QUERY PLAN {page_query}").fetchall())
        assert "TEMP B-TREE" not in plan


@pytest.mark.django_db(transaction=True)  # as migrations run: committed, outside a test's transaction
def test_after_migrations_the_search_index_is_put_back_only_when_it_is_missing(client):
    # On each database the suite runs on: PostgreSQL's check once named an index that never existed.
    excerpts = published_excerpts(2)
    with CaptureQueriesContext(connection) as queries:
        search.ensure_installed()
    assert len(queries) == 1  # the check, and nothing built again
    teardown = {"sqlite": search.SQLITE_FTS_TEARDOWN, "postgresql": search.PG_FTS_TEARDOWN}[connection.vendor]
    try:
        with connection.cursor() as cursor:
            for statement in teardown:  # as a migration that rebuilds the table drops it
                cursor.execute(statement)
    finally:
        search.ensure_installed()
    assert sorted(ids_on(client.get(f"{LIST}?q=administered"))) == sorted(e.pk for e in excerpts)
    with CaptureQueriesContext(connection) as queries:
        search.ensure_installed()
    assert len(queries) == 1


# The page cache ----------------------------------------------------------------------------------


@pytest.fixture
def page_cache():
    with override_settings(PAGE_CACHE=True):
        yield


def queries_for(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, len(queries)


@pytest.mark.django_db
def test_a_visitor_s_second_visit_is_served_from_the_cache_until_the_record_changes(client, page_cache):
    excerpt = published_excerpts(1)[0]
    first, cold = queries_for(client, LIST)
    second, warm = queries_for(client, LIST)
    assert cold > 0 and warm == 0
    assert second.content == first.content
    excerpt.text = "Changed: the count was transparent."
    excerpt.save()
    third, _ = queries_for(client, LIST)
    assert "the count was transparent" in third.content.decode()


@pytest.mark.django_db
def test_revalidation_answers_304_until_the_record_changes(client, page_cache):
    excerpt = published_excerpts(1)[0]
    for url in [LIST, excerpt.get_absolute_url(), "/excerpts.csv", "/excerpts/feed/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        etag, modified = response["ETag"], response["Last-Modified"]
        assert "no-cache" in response["Cache-Control"]
        again, count = queries_for(client, url, if_none_match=etag)
        assert again.status_code == 304 and count == 0 and again["ETag"] == etag
        assert client.get(url, headers={"if-modified-since": modified}).status_code == 304
    excerpt.save()
    assert client.get(LIST, headers={"if-none-match": etag}).status_code == 200


@pytest.mark.django_db
def test_editors_are_never_served_a_visitor_s_page_nor_visitors_an_editor_s(superuser_client, page_cache):
    client = Client()
    excerpt = published_excerpts(1)[0]
    url = excerpt.get_absolute_url()
    Excerpt.objects.filter(pk=excerpt.pk).update(status=Publishable.Status.DRAFT, public=False)
    assert client.get(url).status_code == 404
    preview = superuser_client.get(url)
    assert preview.status_code == 200 and preview.context["preview"]
    assert client.get(url).status_code == 404
    assert "ETag" not in preview


@pytest.mark.django_db
def test_error_pages_and_the_admin_are_not_cached(superuser_client, page_cache):
    client = Client()
    assert client.get("/excerpts/999999/").status_code == 404
    response, count = queries_for(client, "/excerpts/999999/")
    assert response.status_code == 404 and count > 0
    assert "ETag" not in superuser_client.get("/admin/")


@pytest.mark.django_db
def test_every_worker_sees_the_same_record_version_and_a_save_changes_it():
    from django.core.cache import cache

    from observers import signals

    before = signals.record_version()
    cache.clear()  # another worker: its own memory cache, the same version
    assert signals.record_version() == before
    published_excerpts(1)
    after = signals.record_version()
    assert after > before
    cache.clear()
    assert signals.record_version() == after == int(signals.VERSION_FILE.read_text())


@pytest.mark.django_db
def test_migrating_retires_what_the_cache_holds():
    # A release runs its migrations; pages cached by the code before it are not served after.
    from django.core.management import call_command

    from observers import signals

    before = signals.record_version()
    call_command("migrate", verbosity=0)
    assert signals.record_version() > before


@pytest.mark.django_db
def test_with_nothing_cached_each_request_reads_what_it_needs_once_and_again_in_the_next(client, monkeypatch):
    # DJANGO_CACHE=off: every request is as the first after a change. Its organisation directory (the
    # form's choices, the facets' names) is read once for the request, and afresh for the next one.
    from observers import signals

    published_excerpts(3)
    monkeypatch.setattr(signals, "NO_CACHE", True)
    outside = signals.record_version()
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}, PAGE_CACHE=False
    ):
        reads = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(LIST + "?stance=critical").status_code == 200
            reads.append(sum('FROM "observers_organisation"' in query["sql"] for query in queries.captured_queries))
    assert reads == [1, 1]
    assert signals.record_version() != outside  # outside a request, a new version for every use
