"""Faults: the database or the cache stops answering, and the site says so plainly and recovers."""

import contextlib
import copy
import logging
import os
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import override_settings
from django.urls import reverse

from electionsite import cache as resilient
from electionsite.views import server_error

from .conftest import make_excerpt

# What Django's connect() resets, even when the connection then fails: put back afterwards so that the
# test's own transaction carries on.
CONNECTION_STATE = [
    "in_atomic_block",
    "savepoint_ids",
    "atomic_blocks",
    "needs_rollback",
    "closed_in_transaction",
    "errors_occurred",
    "health_check_enabled",
    "health_check_done",
    "close_at",
    "run_on_commit",
]


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@contextlib.contextmanager
def database_unreachable(tmp_path):
    """The database stops answering: the open connection is gone and every new one is refused (a closed
    port for PostgreSQL, a missing folder for SQLite). The test's own connection is set aside meanwhile
    and put back afterwards, as the database coming back."""
    saved = connection.connection
    state = {name: copy.copy(getattr(connection, name)) for name in CONNECTION_STATE}
    settings_dict = connection.settings_dict.copy()
    connection.connection = None
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    else:
        connection.settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
    try:
        yield
    finally:
        assert connection.connection is None, "a connection was opened to nowhere"
        connection.settings_dict.clear()
        connection.settings_dict.update(settings_dict)
        connection.connection = saved
        for name, value in state.items():
            setattr(connection, name, value)


def public_pages(excerpt):
    return [
        reverse("observers:home"),
        reverse("observers:excerpt_list") + "?q=elections",
        reverse("observers:excerpt_export", kwargs={"format": "csv"}),
        reverse("observers:excerpt_feed"),
        excerpt.get_absolute_url(),
        excerpt.mission.election.get_absolute_url(),
        "/sitemap.xml",
    ]


@pytest.fixture
def excerpt(db):
    excerpt = make_excerpt(status="published")
    for parent in (excerpt.mission, excerpt.document):
        parent.status = "published"
        parent.save()
    excerpt.save()
    return excerpt


def test_database_down_answers_503_pages_and_recovers(client, excerpt, tmp_path, caplog):
    pages = public_pages(excerpt)
    with database_unreachable(tmp_path):
        for url in pages:
            response = client.get(url)
            assert response.status_code == 503, url
            assert response["Retry-After"]
            assert "Temporarily unavailable" in response.content.decode(), url
            assert "Traceback" not in response.content.decode()
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "unavailable", "database": "unavailable", "cache": "ok"}
        login = client.post(reverse("admin:login"), {"username": "editor", "password": "guess"})
        assert login.status_code == 503
    assert "Database unavailable" in caplog.text

    # Back: nothing to restart, the very next requests are served.
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_database_error_outside_a_view_still_gets_the_503_page():
    # handler500 is the last resort for what fails outside a view, such as a middleware saving a session.
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(None)
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(None)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


# The cache ---------------------------------------------------------------------------------------------


def redis_cache(port):
    return {
        "default": {
            "BACKEND": "electionsite.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "test",
        }
    }


def test_redis_down_the_site_serves_without_cache_and_says_so(client, excerpt, caplog):
    with override_settings(CACHES=redis_cache(closed_port())):
        with caplog.at_level(logging.WARNING, logger="electionsite.cache"):
            for url in public_pages(excerpt):
                assert client.get(url).status_code == 200, url
            assert cache.get("anything", "missing") == "missing"
            cache.set("anything", 1)
            assert cache.get_or_set("computed", lambda: 42) == 42
            assert cache.get_many(["a", "b"]) == {}
            with pytest.raises(ValueError):
                cache.incr("counter")
            health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "unavailable", "database": "ok", "cache": "unavailable"}
    warnings = [r for r in caplog.records if r.name == "electionsite.cache"]
    assert len(warnings) == 1, "the outage is logged once, not once per call"
    assert "Cache unavailable" in warnings[0].getMessage()


@pytest.fixture
def redis_server(tmp_path):
    """A private Redis on its own port, which the test can stop and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = closed_port()
    processes = []

    def start():
        process = subprocess.Popen(  # noqa: S603 - a fixed binary with fixed arguments
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
        )
        processes.append(process)
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop():
        processes[-1].terminate()
        processes[-1].wait(timeout=10)

    start()
    yield port, start, stop
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_redis_goes_away_and_comes_back(client, excerpt, redis_server, monkeypatch, caplog):
    port, start, stop = redis_server
    monkeypatch.setattr(resilient, "RETRY_AFTER", 0)
    with override_settings(CACHES=redis_cache(port)), caplog.at_level(logging.WARNING, logger="electionsite.cache"):
        cache.set("key", "value")
        assert cache.get("key") == "value"
        assert client.get("/healthz").status_code == 200

        stop()
        assert cache.get("key") is None
        assert client.get(reverse("observers:excerpt_list")).status_code == 200
        assert client.get("/healthz").status_code == 503

        start()
        assert client.get("/healthz").status_code == 200
        cache.set("key", "again")
        assert cache.get("key") == "again"
    messages = [r.getMessage() for r in caplog.records if r.name == "electionsite.cache"]
    assert messages[0].startswith("Cache unavailable") and messages[-1].startswith("Cache available again")


def file_cache(directory):
    return resilient.SharedFileCache(str(directory), {})


def test_the_file_cache_is_shared_by_every_worker(tmp_path):
    # Two workers (two cache objects on the same folder): what one stores, the other reads.
    one, other = file_cache(tmp_path / "cache"), file_cache(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # made when first used
    one.set("page", {"html": "<p>Made once</p>"}, timeout=60)
    assert other.get("page") == {"html": "<p>Made once</p>"}
    assert oct(os.stat(tmp_path / "cache").st_mode & 0o777) == "0o700"


def test_a_cache_folder_others_may_write_to_is_not_used(tmp_path, caplog):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    planted = file_cache(folder)
    with caplog.at_level(logging.WARNING, logger="electionsite.cache"):
        planted.set("page", "stored", timeout=60)
        assert planted.get("page", "missed") == "missed"
    assert list(folder.iterdir()) == []
    assert "is not used" in caplog.text


def test_a_cache_folder_that_cannot_be_made_is_a_miss_not_an_error(tmp_path, caplog):
    (tmp_path / "a-file").write_text("not a folder")
    broken = file_cache(tmp_path / "a-file" / "cache")
    with caplog.at_level(logging.WARNING, logger="electionsite.cache"):
        broken.set("page", "stored", timeout=60)
        assert broken.get("page") is None
        assert broken.add("page", "stored") is False
    assert "serving without a cache" in caplog.text


def test_a_cache_folder_made_again_by_someone_else_is_refused_at_once(tmp_path, caplog):
    # A cleaner of the temporary directory removes the folder, and another user makes it again.
    folder = tmp_path / "cache"
    cache_in_use = file_cache(folder)
    cache_in_use.set("page", "stored", timeout=60)
    assert cache_in_use.get("page") == "stored"
    shutil.rmtree(folder)
    folder.mkdir()
    folder.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="electionsite.cache"):
        cache_in_use.set("planted", "stored", timeout=60)
        assert cache_in_use.get("planted", "missed") == "missed"
    assert list(folder.iterdir()) == []
    assert "is not used" in caplog.text


def test_a_damaged_cache_entry_is_a_miss_not_an_error(tmp_path, caplog):
    cache_in_use = file_cache(tmp_path / "cache")
    cache_in_use.set("page", "stored", timeout=60)
    (entry,) = (tmp_path / "cache").iterdir()
    entry.write_bytes(entry.read_bytes()[:12] + b"not what was stored")
    with caplog.at_level(logging.WARNING, logger="electionsite.cache"):
        assert cache_in_use.get("page", "missed") == "missed"
    assert "treated as a miss" in caplog.text
