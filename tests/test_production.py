"""Production behaviour: security headers, the health check, error pages, the admin's defences, logs,
and the gunicorn configuration."""

import datetime
import gc
import json
import logging
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from electionsite.logs import JsonFormatter
from electionsite.middleware import client_ip

PASSWORD = "Correct-horse-battery-42"


def run(args, **environment):
    """This interpreter in a fresh process, with only the environment given here."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"} | environment
    return subprocess.run(  # noqa: S603 - this interpreter with fixed arguments
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# Headers ---------------------------------------------------------------------------------------------


def policy(response):
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


def test_public_pages_send_the_security_headers(client, db):
    response = client.get(reverse("observers:home"))
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["object-src"] == csp["base-uri"] == csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response  # only over HTTPS
    secure = client.get(reverse("observers:home"), secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_admin_allows_only_its_third_party_inline_attributes_by_hash(superuser_client):
    response = superuser_client.get(reverse("admin:index"))
    csp = policy(response)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert csp["script-src"].startswith("'self' 'unsafe-hashes' 'sha256-")
    assert csp["style-src"].count("'sha256-") == 3


def test_pages_have_no_inline_script_or_style(client, db):
    # What the CSP would block: the site's own templates carry none of it.
    for url in [reverse("observers:home"), reverse("observers:methodology"), reverse("observers:excerpt_list")]:
        page = client.get(url).content.decode()
        assert " style=" not in page and "<style" not in page
        assert page.count("<script") == page.count('<script src="')


# Health check ----------------------------------------------------------------------------------------


def test_healthz_checks_database_and_cache_and_is_never_cached(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_healthz_answers_plain_http_when_everything_else_redirects(client, db):
    assert client.get("/healthz").status_code == 200
    assert client.get(reverse("observers:home")).status_code == 301


# Error pages ----------------------------------------------------------------------------------------


def test_error_pages_are_in_the_site_design(client, db, django_user_model):
    not_found = client.get("/no/such/page/")
    assert not_found.status_code == 404
    assert "site.css" in not_found.content.decode() and "Not found" in not_found.content.decode()

    bad = client.get("/", headers={"host": "attacker.example"})
    assert bad.status_code == 400
    assert "Bad request" in bad.content.decode()

    staff = django_user_model.objects.create_user("intern", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    forbidden = client.get(reverse("editorial_desk"))
    assert forbidden.status_code == 403
    assert "Forbidden" in forbidden.content.decode() and "site.css" in forbidden.content.decode()

    expired = Client(enforce_csrf_checks=True).post(reverse("admin:login"), {"username": "x", "password": "y"})
    assert expired.status_code == 403
    assert "This form has expired" in expired.content.decode()


def test_500_and_503_pages_stand_alone():
    # Rendered without a request: no context processor, no database.
    for template, words in [("500.html", "Something went wrong"), ("503.html", "Temporarily unavailable")]:
        page = render_to_string(template)
        assert words in page and "site.css" in page
        assert "{% extends" not in (settings.BASE_DIR / "templates" / template).read_text()


# The admin ------------------------------------------------------------------------------------------


@pytest.fixture
def chief(db):
    return User.objects.create_superuser("chief", "chief@example.org", PASSWORD)


def log_in(client, password, username="chief", address="203.0.113.7"):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=address, follow=False
    )


def test_password_guessing_is_locked_out_over_http(client, chief, caplog):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for attempt in range(limit - 1):
        response = log_in(client, f"guess-{attempt}")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    with caplog.at_level(logging.WARNING, logger="axes"):
        locked = log_in(client, "one-guess-too-many")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "Locking out" in caplog.text and "203.0.113.7" in caplog.text  # the address, for the operator

    # Now even the right password is refused, from this address or (for this username) any other.
    assert log_in(client, PASSWORD).status_code == 429
    assert log_in(client, PASSWORD, address="198.51.100.2").status_code == 429
    assert "_auth_user_id" not in client.session

    # After the cool-off it works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(1))
    welcome = log_in(client, PASSWORD)
    assert welcome.status_code == 302
    assert client.session["_auth_user_id"] == str(chief.pk)


def test_a_success_resets_the_count(client, chief):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, f"guess-{attempt}")
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    assert log_in(client, "one-typo").status_code == 200  # not locked: the count started again


def test_client_address_behind_a_proxy():
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    with override_settings(TRUSTED_PROXIES=0):
        assert client_ip(request) == "10.0.0.5"
    with override_settings(TRUSTED_PROXIES=1):
        # The left entry came from the client and could be anything: the proxy's own entry counts.
        assert client_ip(request) == "203.0.113.7"
    with override_settings(TRUSTED_PROXIES=2):
        assert client_ip(request) == "6.6.6.6"
    with override_settings(TRUSTED_PROXIES=3):
        assert client_ip(request) == "10.0.0.5"


def test_the_admin_address_comes_from_the_environment():
    code = (
        "import django; django.setup(); from django.urls import reverse, resolve, Resolver404\n"
        "print(reverse('admin:index'), reverse('editorial_desk'), reverse('admin:login'))\n"
        "try:\n    resolve('/admin/'); print('found')\nexcept Resolver404:\n    print('not found')"
    )
    result = run(["-c", code], DJANGO_SETTINGS_MODULE="tests.settings", DJANGO_ADMIN_URL="/editors-7f3a/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/editors-7f3a/", "/editors-7f3a/desk/", "/editors-7f3a/login/", "not", "found"]


def test_robots_txt_does_not_give_the_admin_address_away(client, db):
    assert settings.ADMIN_URL not in client.get("/robots.txt").content.decode()


# Logs ------------------------------------------------------------------------------------------------


def test_json_log_lines():
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Failed: %s", ("/x",), sys.exc_info())
    record.status_code = 500
    record.request = RequestFactory().get("/x")
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "django.request" and entry["message"] == "Failed: /x"
    assert entry["status"] == 500 and entry["method"] == "GET" and entry["path"] == "/x"
    assert "ValueError: broken" in entry["exception"]
    assert datetime.datetime.fromisoformat(entry["time"]).tzinfo is not None


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"DJANGO_DEBUG": "false"}, "json"),
        ({"DJANGO_DEBUG": "true"}, "plain"),
        ({"DJANGO_DEBUG": "false", "DJANGO_LOG_FORMAT": "plain"}, "plain"),
    ],
)
def test_log_format_follows_the_environment(environment, expected):
    code = "from django.conf import settings; print(settings.LOGGING['handlers']['console']['formatter'])"
    result = run(
        ["-c", "import django; django.setup(); " + code],
        DJANGO_SETTINGS_MODULE="electionsite.settings",
        DJANGO_SECRET_KEY="a-secret-for-this-check-only-0123456789abcdefghijklmnop",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


# gunicorn --------------------------------------------------------------------------------------------


def test_gunicorn_configuration_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    config = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    assert config["bind"] == "0.0.0.0:9000"
    assert config["workers"] == 3
    assert config["accesslog"] == "-"
    monkeypatch.delenv("GUNICORN_WORKERS")
    assert 3 <= runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))["workers"] <= 12


def test_gunicorn_freezes_what_loading_the_app_made_before_each_fork():
    config = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    gc.unfreeze()
    try:
        config["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_accepts_the_configuration():
    result = run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "-c",
            "gunicorn.conf.py",
            "electionsite.wsgi",
        ],
        DJANGO_SECRET_KEY="a-secret-for-this-check-only-0123456789abcdefghijklmnop",
        DJANGO_ALLOWED_HOSTS="observers.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
