"""Caches that degrade to no cache rather than to an error page.

The site never needs the cache to answer. When Redis is down, every read is a miss and every write is
dropped, a warning is logged once, and Redis is left alone for a few seconds before the next try, so
that a dead server does not cost every request a connection attempt. The file cache, the default
without Redis, does the same when its folder cannot be used.
"""

import contextlib
import logging
import os
import pickle
import stat
import time
import zlib

from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_AFTER = 5.0  # seconds without trying Redis after a failure


class MissWhenUnavailable:
    """Every cache operation through `self._call(name, fallback, …)`, which answers `fallback()`
    (a miss, or nothing stored) while the cache cannot be used."""

    def _backend(self, method):
        """The cache's own operation, below these."""
        return getattr(super(), method)

    def add(self, *args, **kwargs):
        return self._call("add", lambda: False, *args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: default, key, default, version)

    def set(self, *args, **kwargs):
        return self._call("set", lambda: None, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", lambda: False, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", lambda: False, *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", dict, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", lambda: False, *args, **kwargs)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")

        return self._call("incr", missing, key, delta, version)

    def set_many(self, data, *args, **kwargs):
        return self._call("set_many", lambda: list(data), data, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", lambda: None, *args, **kwargs)

    def clear(self):
        return self._call("clear", lambda: False)


class ResilientRedisCache(MissWhenUnavailable, RedisCache):
    def __init__(self, server, params):
        params = {**params}
        # Fail fast: a cache that makes pages wait is worse than no cache.
        params["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 1, **params.get("OPTIONS", {})}
        super().__init__(server, params)
        self._down_since = None
        self._retry_at = 0.0

    def _call(self, method, fallback, *args, **kwargs):
        if self._down_since is not None and time.monotonic() < self._retry_at:
            return fallback()
        try:
            result = self._backend(method)(*args, **kwargs)
        except UNAVAILABLE as error:
            if self._down_since is None:
                self._down_since = time.monotonic()
                logger.warning("Cache unavailable, serving without it: %s", error)
            self._retry_at = time.monotonic() + RETRY_AFTER
            return fallback()
        if self._down_since is not None:
            logger.warning("Cache available again after %.0f s", time.monotonic() - self._down_since)
            self._down_since = None
        return result

    @property
    def available(self):
        return self._down_since is None


class SharedFileCache(MissWhenUnavailable, FileBasedCache):
    """Django's file cache, shared by every worker on the machine (a worker that starts, or that
    gunicorn replaces after its quota of requests, finds the others' pages and counts), refusing a
    folder that someone else could write to (entries are pickles), and never an error page: a folder
    that cannot be used, or a damaged entry, is a miss, with a warning logged."""

    # What reading a damaged or half-written entry can raise.
    DAMAGED = (OSError, EOFError, ValueError, zlib.error, pickle.UnpicklingError)

    def __init__(self, directory, params):
        self._warned = False
        self._starting = True
        super().__init__(directory, params)
        self._starting = False

    def _createdir(self):
        # Made (or found unusable) when first used: not at start-up, nor by `manage.py check`.
        if not self._starting:
            with contextlib.suppress(OSError):
                super()._createdir()

    def _folder_usable(self):
        """Whether the folder is this user's alone, checked on every use: a folder removed (by a
        cleaner of the temporary directory) and made again by someone else is refused at once."""
        try:
            try:
                status = os.stat(self._dir)
            except FileNotFoundError:
                os.makedirs(self._dir, 0o700, exist_ok=True)
                status = os.stat(self._dir)
        except OSError as error:
            return self._refuse(error)
        if status.st_uid != os.getuid() or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return self._refuse("it belongs to someone else or others may write to it")
        self._warned = False
        return True

    def _refuse(self, reason):
        if not self._warned:
            logger.warning("Cache folder %s is not used, serving without a cache: %s", self._dir, reason)
            self._warned = True
        return False

    def _call(self, method, fallback, *args, **kwargs):
        if not self._folder_usable():
            return fallback()
        try:
            return self._backend(method)(*args, **kwargs)
        except self.DAMAGED as error:
            logger.warning("Cache folder %s failed, treated as a miss: %s", self._dir, error)
            return fallback()
