"""Measure every public page type against the current database, the editors' admin, and optionally a
load on gunicorn.

For each page: the first run's time (facet counts and the filter form not yet cached), the median
and p95 server time over N runs (in-process, through the whole Django stack), the number of SQL
queries, the time they took (executing and fetching their rows), and the floor (the same SQL run
directly). Prints a table, then each target (see PAGE_MEDIAN_MS) met or missed, and writes JSON.
The admin's pages are requested by a superuser made for the purpose in a transaction that is rolled
back afterwards: the record is left as it was. (On SQLite that transaction holds the database's write
lock while the admin is measured: run the benchmark when no one else writes.)
"""

import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from observers import plans, signals
from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic

COMMON_TERM = "election"
RARE_TERM = "quokka"

# The targets at a million excerpts on a 2-core machine. Query budgets and an export's memory are
# asserted by the test suite instead (tests/test_views.py, tests/test_plans.py).
PAGE_MEDIAN_MS = 100
PAGE_P95_MS = 250
BEYOND_SQL_MS = 30
ADMIN_MEDIAN_MS = 300
# A deep page is "as fast as the first" when its median is at most this much the first page's: runs
# of one page move by about a tenth.
DEEP_PAGE_RATIO = 1.25
FIRST_PAGE, DEEP_PAGE = "excerpts", "excerpts deep page (10,000th)"
UNCACHED_LOAD, UNCACHED_RPS = "filtered list, nothing cached", 60
MIX_LOAD, MIX_RPS = "mix, caching on", 300


def run_mix(host, port, paths, seconds, concurrency):
    """GET the paths round-robin from `concurrency` threads with keep-alive, for `seconds`; bounded."""
    deadline = time.monotonic() + seconds
    latencies, errors = [], []
    lock = threading.Lock()

    def worker(offset):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        n = offset
        while time.monotonic() < deadline:
            path = paths[n % len(paths)]
            n += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                failed = response.status >= 400
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                failed = True
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if failed:
                    errors.append(path)
        conn.close()

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "seconds": round(elapsed, 1),
        "concurrency": concurrency,
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "errors": len(errors),
    }


def _within(results, key, limit):
    """(met, detail) for "every one of `results` (not empty) has `key` at most `limit`"."""
    over = [result for result in results if result[key] > limit]
    if over:
        return False, "; ".join(f"{result['page']} {result[key]:.1f} ms" for result in over)
    slowest = max(results, key=lambda result: result[key])
    return True, f"slowest {slowest['page']} {slowest[key]:.1f} ms"


def verdicts(report):
    """Each target (see PAGE_MEDIAN_MS and those after it) that the `report` bears on: a list of
    {"target", "met", "detail"}, the detail naming the pages that miss it or else the closest."""
    pages, admin, loads = report["pages"], report["admin"], report.get("load") or {}
    # Under --only, "every page" is every page measured.
    every = "every measured" if report.get("only") else "every"
    found = []

    def add(target, met_detail):
        met, detail = met_detail
        found.append({"target": target, "met": met, "detail": detail})

    if pages:
        add(f"{every} public page's median at most {PAGE_MEDIAN_MS} ms", _within(pages, "median_ms", PAGE_MEDIAN_MS))
        add(f"{every} public page's p95 at most {PAGE_P95_MS} ms", _within(pages, "p95_ms", PAGE_P95_MS))
        add(
            f"{every} public page's time beyond its SQL at most {BEYOND_SQL_MS} ms",
            _within(pages, "beyond_sql_ms", BEYOND_SQL_MS),
        )
        problems = [f"{result['page']}: {problem}" for result in pages for problem in result["plan_problems"]]
        add("no query reads a large table whole or sorts it", (not problems, "; ".join(problems) or "none found"))
    by_name = {result["page"]: result for result in pages}
    if FIRST_PAGE in by_name and DEEP_PAGE in by_name:
        first, deep = by_name[FIRST_PAGE]["median_ms"], by_name[DEEP_PAGE]["median_ms"]
        add(
            f"the deep page as fast as the first (median at most {DEEP_PAGE_RATIO:g} times)",
            (deep <= DEEP_PAGE_RATIO * first, f"{deep:.1f} ms against {first:.1f} ms"),
        )
    if admin:
        add(f"{every} admin page's median at most {ADMIN_MEDIAN_MS} ms", _within(admin, "median_ms", ADMIN_MEDIAN_MS))
    for label, minimum in ((UNCACHED_LOAD, UNCACHED_RPS), (MIX_LOAD, MIX_RPS)):
        if label in loads:
            rate = loads[label]["requests_per_second"]
            add(f"load, {label}: at least {minimum} requests/s", (rate >= minimum, f"{rate:,.1f} requests/s"))
    if loads:
        errors = sum(result["errors"] for result in loads.values())
        add("no errors under load", (errors == 0, f"{errors} errors"))
    return found


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# PostgreSQL's server-side cursor, as Django declares one for a streamed read: its name.
DECLARE_CURSOR = re.compile(r"^\s*DECLARE\s+(\S+)\s", re.IGNORECASE)


@contextmanager
def fetches_timed(spent):
    """Count the fetching of rows as the SQL's time too: SQLite computes a query's rows as they are
    fetched (the execute returns at the first), and a streamed export fetches its rows a chunk at a
    time. Each fetch's seconds are added to `spent`. Django's cursor passes fetches on to the
    driver's cursor; for the while, the wrapper's own methods do, timed."""

    def timed(name):
        def fetch(self, *args):
            started = time.perf_counter()
            try:
                with self.db.wrap_database_errors:
                    return getattr(self.cursor, name)(*args)
            finally:
                spent.append(time.perf_counter() - started)

        return fetch

    names = ("fetchone", "fetchmany", "fetchall")
    for name in names:
        setattr(CursorWrapper, name, timed(name))
    try:
        yield
    finally:
        for name in names:
            delattr(CursorWrapper, name)


def machine_ms():
    """The median time of a fixed piece of plain Python (summing a million numbers), in ms: how fast the
    machine runs Python at the moment. On a shared machine it moves from day to day, and every page's
    time with it, so runs are compared by it. Measured before and after the pages."""
    timings = []
    for _ in range(9):
        started = time.perf_counter()
        sum(range(1_000_000))
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def drain(response):
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


class Command(BaseCommand):
    help = "Measure the public pages (median, p95, queries, SQL time, floor) and, optionally, a load on gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20, help="Runs per page (default 20).")
        parser.add_argument("--json", default="bench/results/latest.json", help="Where to write the results.")
        parser.add_argument(
            "--only", default="", help="Measure only pages whose name contains this (the loads keep their own pages)."
        )
        parser.add_argument("--load", type=float, default=20, help="Seconds of load on gunicorn; 0 for none.")
        parser.add_argument("--concurrency", type=int, default=16)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--warmup", type=float, default=10, help="Seconds of unmeasured load before each measured one."
        )
        parser.add_argument(
            "--page-cache", action="store_true", help="Serve repeated runs of a page from the whole-page cache."
        )
        parser.add_argument("--no-admin", action="store_true", help="Leave out the editors' admin.")

    def handle(self, *args, page_cache, **options):
        # Each page is built every time unless asked: a page served whole from the cache says
        # nothing about the page. (Facet counts and the filter form stay cached, as in production;
        # the first run of each page shows them cold.)
        with override_settings(PAGE_CACHE=page_cache):
            self.run(page_cache=page_cache, **options)

    def run(self, *, runs, only, load, concurrency, workers, page_cache, warmup, no_admin, **options):
        self.warmup = warmup
        # As after a change to the record: nothing cached yet, so each page's first run is cold.
        signals.record_changed()
        every_page = self.pages()
        pages = [page for page in every_page if only in page[0]]
        excerpts = Excerpt.objects.count()
        machine = {"before": machine_ms()}
        self.stdout.write(
            f"{connection.vendor}, {excerpts:,} excerpts, {runs} runs per page, Python {platform.python_version()}; "
            f"machine: a million numbers summed in {machine['before']} ms"
        )
        columns = ("first", "median", "p95", "queries", "SQL", "floor", "beyond", "KB")
        header = f"{'page':<34} " + " ".join(
            f"{column:>{7 if column in ('queries', 'KB') else 8}}" for column in columns
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        results = []
        client = Client(HTTP_HOST=(settings.ALLOWED_HOSTS or ["127.0.0.1"])[0].lstrip(".") or "127.0.0.1")
        for name, url in pages:
            results.append(self.measure(client, name, url, runs))
            self.write_row(results[-1])
        admin_results = []
        if not no_admin:
            with transaction.atomic():
                # A superuser for the measurement only: rolled back with everything the requests wrote.
                name = f"benchmark-{uuid.uuid4().hex[:12]}"
                editor = get_user_model().objects.create_superuser(name, password=None)
                client.force_login(editor)
                for name, url in self.admin_pages():
                    if only in name:
                        admin_results.append(self.measure(client, name, url, runs, plans_checked=False))
                        self.write_row(admin_results[-1])
                client.logout()
                transaction.set_rollback(True)
        for result in results:
            for problem in result["plan_problems"]:
                self.stdout.write(f"Plan of {result['page']}: {problem}")
        if not any(result["plan_problems"] for result in results):
            self.stdout.write("Plans: no query reads a large table whole or sorts what it read whole (facets aside).")
        machine["after"] = machine_ms()
        self.stdout.write(
            f"Machine: a million numbers summed in {machine['before']} ms before the pages, "
            f"{machine['after']} ms after."
        )
        report = {
            "database": connection.vendor,
            "excerpts": excerpts,
            "runs": runs,
            "only": only,
            "page_cache": page_cache,
            "cpus": os.cpu_count(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine_ms": machine,
            "pages": results,
            "admin": admin_results,
        }
        if load:
            # The loads are of their own pages, whichever pages `--only` measured.
            report["load"] = self.load(every_page, load, concurrency, workers)
        report["targets"] = verdicts(report)
        self.write_verdicts(report)
        path = Path(options["json"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2))
        self.stdout.write(f"Wrote {path}")

    def pages(self):
        published = Excerpt.objects.published()
        heavy = (
            published.values("organisation")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .values_list("organisation", flat=True)
        )[:1]
        heavy = Organisation.objects.filter(pk__in=list(heavy)).first() or Organisation.objects.first()
        heavy_country = (
            published.filter(organisation=heavy).values("country").annotate(n=Count("pk")).order_by("-n").first()
            or {"country": "KZ"}
        )["country"]
        # An organisation with about 10,000 excerpts, for the exports.
        mid = (
            published.values("organisation")
            .annotate(n=Count("pk"))
            .filter(n__lte=10_000)
            .order_by("-n")
            .values_list("organisation", flat=True)[:1]
        )
        mid = Organisation.objects.filter(pk__in=list(mid)).first() or heavy
        # Whoever wrote the most characterisations (a document's publisher), for the list of theirs.
        author = (
            published.characterisations()
            .values("document_publisher")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .values_list("document_publisher", flat=True)
        )[:1]
        author = Organisation.objects.filter(pk__in=list(author)).first()
        election = Election.objects.filter(pk__in=published.values("election")[:1]).first()
        # An election's characterisations, as its page links to them.
        characterised = (
            Election.objects.filter(pk__in=published.characterisations().exclude(election=None).values("election")[:1])
            .values_list("slug", flat=True)
            .first()
        )
        mission = Mission.objects.published().filter(pk__in=published.values("mission")[:1]).first()
        document = Document.objects.published().filter(pk__in=published.values("document")[:1]).first()
        # The 10,000th page of 25, or the last there is in a smaller record: reached, as a reader does,
        # by following "Next", which continues after the previous page's last sort key.
        depth = min(25 * 9_999, max(published.count() - 25, 0))
        deep_key = published.order_by("-sort_key").values_list("sort_key", flat=True)[depth]
        excerpt = published.primary().first()
        characterisation = published.characterisations().first()
        excerpts = reverse("observers:excerpt_list")
        characterisations = reverse("observers:characterisation_list")
        elections = reverse("observers:election_list")
        missions = reverse("observers:mission_list")
        documents = reverse("observers:document_list")
        org, country = heavy.slug, heavy_country

        def export(name, fmt="csv"):
            return reverse(f"observers:{name}_export", kwargs={"format": fmt})

        pages = [
            ("home", reverse("observers:home")),
            ("excerpts", excerpts),
            ("excerpts 1 filter", f"{excerpts}?stance=critical"),
            # An organisation's filter takes in its member bodies: the heaviest's family, alone.
            ("excerpts 1 filter (heaviest org)", f"{excerpts}?organisation={org}"),
            # A filter that few excerpts match (a few in a hundred), for the list's index.
            ("excerpts headline conclusions", f"{excerpts}?headline=on"),
            ("excerpts 3 filters (heaviest org)", f"{excerpts}?organisation={org}&stance=critical&country={country}"),
            ("excerpts search rare", f"{excerpts}?q={RARE_TERM}"),
            ("excerpts search common", f"{excerpts}?q={COMMON_TERM}"),
            ("excerpts search by relevance", f"{excerpts}?q={COMMON_TERM}&sort=relevance"),
            ("excerpts deep page (10,000th)", f"{excerpts}?after={deep_key}"),
            ("excerpts page 400 by number", f"{excerpts}?page=400"),
            ("characterisations", characterisations),
            ("characterisations 1 filter", f"{characterisations}?fidelity=selective"),
            ("characterisations by (busiest author)", f"{characterisations}?by={author.slug}" if author else None),
            ("characterisations of an election", characterised and f"{characterisations}?election={characterised}"),
            ("elections", elections),
            ("elections 1 filter", f"{elections}?country={country}"),
            ("elections 3 filters", f"{elections}?country={country}&kind=parliamentary&organisation={org}"),
            ("organisations", reverse("observers:organisation_list")),
            ("organisations 1 filter", reverse("observers:organisation_list") + "?kind=intergovernmental"),
            ("missions", missions),
            ("missions 1 filter", f"{missions}?organisation={org}"),
            ("missions 3 filters", f"{missions}?organisation={org}&verdict=critical&country={country}"),
            ("documents", documents),
            ("documents 1 filter", f"{documents}?kind=final"),
            ("documents 1 filter (heaviest org)", f"{documents}?publisher={org}"),
            ("documents 3 filters", f"{documents}?kind=final&publisher={org}&provenance=mirror"),
            ("election detail", election.get_absolute_url() if election else None),
            ("organisation detail (heaviest)", heavy.get_absolute_url()),
            ("mission detail", mission.get_absolute_url() if mission else None),
            ("document detail", document.get_absolute_url() if document else None),
            ("excerpt detail", excerpt.get_absolute_url() if excerpt else None),
            ("characterisation detail", characterisation.get_absolute_url() if characterisation else None),
            ("export excerpts csv (~10k rows)", f"{export('excerpt')}?organisation={mid.slug}"),
            ("export excerpts json (~10k rows)", f"{export('excerpt', 'json')}?organisation={mid.slug}"),
            ("export missions csv", f"{export('mission')}?organisation={mid.slug}"),
            ("export documents csv", f"{export('document')}?publisher={mid.slug}"),
            ("export elections csv", export("election")),
            ("feed", reverse("observers:excerpt_feed")),
            ("feed filtered", reverse("observers:excerpt_feed") + f"?stance=critical&country={country}"),
            ("methodology", reverse("observers:methodology")),
            ("sitemap index", "/sitemap.xml"),
            ("sitemap excerpts (1,000 per page)", "/sitemap-excerpts.xml"),
        ]  # fmt: skip
        return [(name, url) for name, url in pages if url]

    def write_row(self, result):
        self.stdout.write(
            f"{result['page']:<34} {result['first_ms']:>6.1f}ms {result['median_ms']:>6.1f}ms "
            f"{result['p95_ms']:>6.1f}ms {result['queries']:>7} "
            f"{result['sql_ms']:>6.1f}ms {result['floor_ms']:>6.1f}ms {result['beyond_sql_ms']:>6.1f}ms "
            f"{result['kilobytes']:>7.1f}"
        )

    def write_verdicts(self, report):
        self.stdout.write(
            f"Targets, stated for 1,000,000 excerpts on a 2-core machine (here {report['excerpts']:,} excerpts, "
            f"and a million numbers summed in {report['machine_ms']['before']} ms):"
        )
        for verdict in report["targets"]:
            self.stdout.write(f"  {'met' if verdict['met'] else 'MISSED':<6} {verdict['target']}: {verdict['detail']}")
        missed = sum(not verdict["met"] for verdict in report["targets"])
        if not report["targets"]:
            self.stdout.write("No target measured.")
        elif missed:
            self.stdout.write(f"{missed} of {len(report['targets'])} targets missed.")
        else:
            self.stdout.write("Every target measured here is met.")

    def admin_pages(self):
        """The editors' admin: each model's list, the list searched and filtered, a change form, the
        autocomplete an excerpt's form uses, and the editorial desk. Rows are chosen as in pages():
        the heaviest organisation, and its busiest mission and document."""
        heavy = (
            Organisation.objects.annotate(n=Count("missions")).order_by("-n").first() or Organisation.objects.first()
        )
        mission = Mission.objects.filter(organisation=heavy).annotate(n=Count("excerpts")).order_by("-n").first()
        document = Document.objects.filter(publisher=heavy).annotate(n=Count("excerpts")).order_by("-n").first()
        excerpt = Excerpt.objects.characterisations().first() or Excerpt.objects.first()
        election = mission.election if mission else Election.objects.first()
        topic = Topic.objects.annotate(n=Count("excerpts")).order_by("-n").first()

        def admin(model, view="changelist", *args):
            return reverse(f"admin:observers_{model._meta.model_name}_{view}", args=args)

        word = (heavy.acronym or heavy.name.split()[0]) if heavy else "x"
        pages = [
            ("admin: organisations", admin(Organisation)),
            ("admin: organisations searched", f"{admin(Organisation)}?q={word}"),
            ("admin: organisation form (heaviest)", heavy and admin(Organisation, "change", heavy.pk)),
            ("admin: organisation deletion page (heaviest)", heavy and admin(Organisation, "delete", heavy.pk)),
            ("admin: topics", admin(Topic)),
            ("admin: topic deletion page (busiest)", topic and admin(Topic, "delete", topic.pk)),
            ("admin: elections", admin(Election)),
            ("admin: elections searched", f"{admin(Election)}?q=parliamentary"),
            ("admin: elections filtered", f"{admin(Election)}?kind__exact=presidential"),
            ("admin: election form", election and admin(Election, "change", election.pk)),
            ("admin: missions", admin(Mission)),
            ("admin: missions searched", f"{admin(Mission)}?q={word}"),
            ("admin: missions filtered", f"{admin(Mission)}?status__exact=published&mission_type__exact=eom"),
            ("admin: mission form (busiest)", mission and admin(Mission, "change", mission.pk)),
            ("admin: documents", admin(Document)),
            ("admin: documents searched", f"{admin(Document)}?q=report"),
            ("admin: documents filtered", f"{admin(Document)}?status__exact=published&kind__exact=final"),
            ("admin: document form (busiest)", document and admin(Document, "change", document.pk)),
            ("admin: excerpts", admin(Excerpt)),
            ("admin: excerpts searched (common)", f"{admin(Excerpt)}?q={COMMON_TERM}"),
            ("admin: excerpts searched (rare)", f"{admin(Excerpt)}?q={RARE_TERM}"),
            ("admin: excerpts filtered", f"{admin(Excerpt)}?status__exact=published&stance__exact=critical"),
            ("admin: excerpt form", excerpt and admin(Excerpt, "change", excerpt.pk)),
            (
                "admin: excerpt autocomplete",
                reverse("admin:autocomplete")
                + f"?app_label=observers&model_name=excerpt&field_name=primary_excerpts&term={COMMON_TERM}",
            ),
            ("admin: editorial desk", reverse("editorial_desk")),
        ]
        return [(name, url) for name, url in pages if url]

    def measure(self, client, name, url, runs, plans_checked=True):
        timings, sql_times = [], []
        size = 0
        for _ in range(runs):
            # The SQL's time, measured here to the microsecond: Django's record of each query's time is
            # rounded to the millisecond, which made a page of ten 0.4 ms queries spend none in SQL.
            # Executing and fetching rows both count (see fetches_timed).
            spent = []

            def timed(execute, sql, params, many, context, spent=spent):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    spent.append(time.perf_counter() - started)

            with (
                CaptureQueriesContext(connection) as context,
                connection.execute_wrapper(timed),
                fetches_timed(spent),
            ):
                started = time.perf_counter()
                response = client.get(url)
                size = drain(response)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
            queries = context.captured_queries
            sql_times.append(sum(spent) * 1000)
            if len(timings) == 1:
                first_queries = queries
        floor = self.floor(queries)
        median = statistics.median(timings)
        # The plans of everything the page ran on its first, cold run (facet counts aside).
        problems = [
            problem
            for query in first_queries
            if plans_checked and query["sql"].startswith(("SELECT", "WITH")) and not plans.is_facet(query["sql"])
            for problem in plans.problems(query["sql"].replace("%", "%%"))
        ]
        return {
            "page": name,
            "url": url,
            "first_ms": round(timings[0], 2),
            "median_ms": round(median, 2),
            "p95_ms": round(percentile(timings, 0.95), 2),
            "queries": len(queries),
            "sql_ms": round(statistics.median(sql_times), 2),
            "floor_ms": round(floor, 2),
            "beyond_sql_ms": round(max(0.0, median - statistics.median(sql_times)), 2),
            "kilobytes": round(size / 1024, 1),
            "plan_problems": problems,
        }

    def floor(self, queries):
        """The time of the page's SQL run directly: the median of five runs of the whole set."""
        totals = []
        with connection.cursor() as cursor:
            for _ in range(5):
                started = time.perf_counter()
                for query in queries:
                    sql = query["sql"]
                    if declared := DECLARE_CURSOR.match(sql):
                        self.fetch_declared(cursor, sql, declared[1])
                        continue
                    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                        continue
                    cursor.execute(sql.replace("%", "%%"))
                    cursor.fetchall()
                totals.append((time.perf_counter() - started) * 1000)
        return statistics.median(totals)

    @staticmethod
    def fetch_declared(cursor, sql, name):
        """A streamed read on PostgreSQL, as the page ran it: a cursor declared in a transaction, all
        of whose rows are fetched (run as a plain query, its plan would be another's)."""
        with transaction.atomic():
            cursor.execute(sql.replace("%", "%%"))
            cursor.execute(f"FETCH ALL FROM {name}")
            cursor.fetchall()
            cursor.execute(f"CLOSE {name}")

    def load(self, pages, seconds, concurrency, workers):
        """Bounded loads on gunicorn: a typical filtered list with nothing cached, then with only the
        whole-page cache off (facet counts and the filter form cached), then the mix of public pages
        with caching on."""
        typical = [url for name, url in pages if name == "excerpts 1 filter"]
        mix = [url for name, url in pages if "export" not in name and "sitemap" not in name]
        phases = [
            ("filtered list, nothing cached", typical, {"DJANGO_CACHE": "off", "DJANGO_PAGE_CACHE": "false"}),
            ("filtered list, page cache off", typical, {"DJANGO_PAGE_CACHE": "false"}),
            ("mix, caching on", mix, {}),
        ]
        return {
            label: self.gunicorn_load(label, paths, seconds, concurrency, workers, settings_env)
            for label, paths, settings_env in phases
        }

    def gunicorn_load(self, label, paths, seconds, concurrency, workers, settings_env):
        """Run gunicorn on a free loopback port and put a bounded load on it, starting from nothing
        cached (the warm-up then fills the cache, as visitors do)."""
        signals.record_changed()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        environment = (
            os.environ
            | {
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "benchmark-only-" + "x" * 40),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DJANGO_SECURE_SSL_REDIRECT": "false",
                "DJANGO_LOG_LEVEL": "WARNING",
                "DJANGO_PAGE_CACHE": "true",
                "DJANGO_CACHE": "on",
            }
            | settings_env
        )
        if connection.vendor == "sqlite":
            environment["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
        root = Path(settings.BASE_DIR)
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=root, env=environment, check=True
        )
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "electionsite.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--log-level", "warning"],
            # Its access log is still written (as in production), but not into this report.
            cwd=root, env=environment, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            if self.warmup:
                # Each worker's caches filled first, as on a server that has been up for a while.
                run_mix("127.0.0.1", port, paths, seconds=self.warmup, concurrency=concurrency)
            result = run_mix("127.0.0.1", port, paths, seconds=seconds, concurrency=concurrency)
            result["warmup_seconds"] = self.warmup
            self.stdout.write(
                f"Load, {label}: {seconds:.0f} s (after {self.warmup:.0f} s of warm-up) at concurrency {concurrency} "
                f"on gunicorn ({workers} workers): "
                f"{result['requests_per_second']:.1f} req/s, p50 {result['p50_ms']:.0f} ms, "
                f"p95 {result['p95_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, {result['errors']} errors"
            )
            return result
        finally:
            server.terminate()
            server.wait(timeout=30)
