"""Browser tests: Playwright drives the system Chromium against pytest-django's live server.

Every test here is marked `browser`. Without Chromium they skip, except in CI (CI=true), where a
missing Chromium fails and any skipped browser test is reported as a failure.
"""

import datetime
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from observers.models import Mission, Topic
from observers.views import ExcerptListView
from tests.conftest import make_document, make_excerpt

# Playwright's sync API keeps an event loop in the main thread, and Django refuses ORM calls from a thread
# with a running loop unless told it is safe. It is here: the test thread waits while the browser works.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# An IPv4 address rather than "localhost", which Chromium would try on ::1 first.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("browser"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"A browser test may not be skipped in CI (CI=true). It was skipped: {reason}"
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)."
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session", autouse=True)
def _serialized_database_under_playwright(django_db_setup, playwright):
    """Give the test database's serialized copy to the connection that the browser tests use.

    Playwright's sync API keeps an asyncio loop running in the main thread, and from then on Django keeps
    its connections in context-local rather than thread-local storage: the browser tests get a second
    connection object to the same test database, without the serialized copy from which
    serialized_rollback restores the migrations' data (topics, roles) after each test's flush. That
    happens whenever the database was created before Playwright started, as in a whole-suite run.
    """
    from django.db import connections

    thread_local = connections._connections._storage
    for alias in connections:
        serialized = getattr(getattr(thread_local, alias, None), "_test_serialized_contents", None)
        if serialized is not None and not hasattr(connections[alias], "_test_serialized_contents"):
            connections[alias]._test_serialized_contents = serialized


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative addresses in page.goto() go to the live server."""
    return live_server.url


@pytest.fixture
def demo(live_server):
    """The demo data set, visible to the live server (the browser tests use transactions)."""
    call_command("load_demo", verbosity=0)
    return live_server


@pytest.fixture
def many_excerpts(demo):
    """More synthetic, published ODIHR excerpts than one page holds, so the results have a next page.

    On voting and critical: one page and three more; besides them, 2 critical on another topic and
    5 positive ones, which the filters must leave out.
    """
    mission = Mission.objects.get(
        organisation__slug="odihr", election__slug="kz-2021-01-10-parliamentary", mission_type="limited_eom"
    )
    document = make_document(
        publisher=mission.organisation,
        title="Synthetic test report",
        date=datetime.date(2021, 3, 1),
        status="published",
    )
    voting, media = Topic.objects.get(slug="voting"), Topic.objects.get(slug="media")
    expected = ExcerptListView.paginate_by + 3
    for n, (stance, topic) in enumerate(
        [("critical", voting)] * expected + [("critical", media)] * 2 + [("positive", voting)] * 5
    ):
        excerpt = make_excerpt(
            mission=mission,
            document=document,
            text=f"Synthetic test passage {n}, not a real quotation.",
            stance=stance,
            status="published",
        )
        excerpt.topics.add(topic)
    return expected
