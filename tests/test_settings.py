"""The production settings, imported in a fresh process with only the environment given here."""

import os
import platform
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

BASE_DIR = settings.BASE_DIR


def run(args, **environment):
    # A clean environment: nothing leaks in from the test settings (which set a secret key).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"} | environment
    return subprocess.run(  # noqa: S603 - runs this interpreter with fixed arguments
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_debug_off_without_a_secret_key_is_refused():
    result = run(["-c", "import electionsite.settings"], DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY must be set" in result.stderr


def test_a_command_without_a_secret_key_says_so():
    # Not Django's "Models aren't loaded yet", which hides the settings' own message.
    result = run(["manage.py", "makemigrations", "--check", "--dry-run"])
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
    assert "AppRegistryNotReady" not in result.stderr


def test_debug_is_off_unless_asked_for():
    result = run(["-c", "import electionsite.settings"])
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_debug_on_runs_without_a_secret_key():
    code = "from electionsite import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)"
    result = run(["-c", code], DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['127.0.0.1', 'localhost']"


def test_deploy_check_passes_with_production_settings(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="electionsite.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="observers.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_redis_the_cache_is_a_folder_per_database_unless_one_is_given(tmp_path):
    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c['LOCATION'])"
    common = {"DJANGO_DEBUG": "true", "DJANGO_SETTINGS_MODULE": "electionsite.settings"}
    first = run(["-c", "import django; django.setup(); " + code], **common, DATABASE_URL="sqlite:////srv/one.db")
    second = run(["-c", "import django; django.setup(); " + code], **common, DATABASE_URL="sqlite:////srv/two.db")
    assert first.returncode == 0, first.stderr
    backend, location = first.stdout.split()
    assert backend == "electionsite.cache.SharedFileCache"
    assert location != second.stdout.split()[1]
    chosen = run(["-c", "import django; django.setup(); " + code], **common, DJANGO_CACHE_DIR=str(tmp_path / "cache"))
    assert chosen.stdout.split()[1] == str(tmp_path / "cache")


# A streamed export's chunks, of about 400 KB each, written one after another and each freed before the
# next, as a download is: the pages the kernel faulted in for the chunks after the first three.
CHUNKED_EXPORT = """
import resource, django
django.setup()
from observers import export
columns = [export.Column(name, "") for name in ("id", "text", "url")]
def chunks(count):
    for chunk in range(count):
        ids = list(range(chunk * 500, chunk * 500 + 500))
        yield [ids, [f"Observers noted {i}. " * 40 for i in ids], [f"/excerpts/{i}/" for i in ids]]
def download(count):
    for _ in export._json_chunks(chunks(count), columns):
        pass
download(3)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
download(40)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_a_process_keeps_the_memory_an_export_frees_for_its_next_chunk():
    faults = {}
    for tuning in ("true", "false"):
        result = run(
            ["-c", CHUNKED_EXPORT],
            PYTHONPATH=str(BASE_DIR),
            DJANGO_SETTINGS_MODULE="electionsite.settings",
            DJANGO_DEBUG="true",
            DJANGO_ALLOCATOR_TUNING=tuning,
        )
        assert result.returncode == 0, result.stderr
        faults[tuning] = int(result.stdout)
    # With glibc's own thresholds, each chunk's memory went back to the system and was faulted in again.
    assert faults["true"] * 10 < faults["false"], faults
