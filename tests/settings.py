"""Settings for the test suite: the main settings with test-friendly defaults.

Environment defaults are set here, before the main settings read them.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")

from electionsite.settings import *  # noqa: E402, F403

# The manifest storage needs collectstatic first; tests do not run it.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STATIC_ROOT = None  # no collectstatic in tests; WhiteNoise serves from the finders
# Each test run its own memory and its own record version: nothing carries over between runs or
# databases, and two runs at once do not retire each other's cached values.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
_VERSION_FOLDER = tempfile.mkdtemp(prefix="eor-test-")
atexit.register(shutil.rmtree, _VERSION_FOLDER, ignore_errors=True)
RECORD_VERSION_FILE = os.path.join(_VERSION_FOLDER, "record-version")
# Tests build every page they ask for; tests/test_page_cache.py turns the page cache on to test it.
PAGE_CACHE = False
