"""Whole public pages, cached and revalidated under the record's version."""

import datetime
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from .signals import CACHE_SECONDS, record_version


class PublicPageCacheMiddleware:
    """Serve visitors' pages from the cache and answer conditional GETs, until the record changes.

    Only for requests without a session (visitors, not editors, who may see drafts in preview) and
    only outside the admin and the health check. The ETag and Last-Modified come from the record's
    version, so a browser or proxy that revalidates gets a 304 without the page being built; a change
    anywhere in the record gives every page a new ETag. Exports stream and are never stored, but are
    revalidated the same way.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.skipped = tuple(f"/{prefix.strip('/')}/" for prefix in (settings.ADMIN_URL, "healthz", "static"))

    def __call__(self, request):
        if not self.applies(request):
            return self.get_response(request)
        version = record_version()
        # The day is part of it: citations give today's date as the date of access.
        digest = hashlib.sha256(f"{datetime.date.today()} {request.get_full_path()}".encode()).hexdigest()
        etag = f'"{version:x}-{digest[:16]}"'
        changed = version // 1_000_000_000
        not_modified = get_conditional_response(request, etag=etag, last_modified=changed)
        if not_modified is not None:
            return self.validators(not_modified, etag, changed)
        key = f"page:{version}:{digest}"
        response = cache.get(key) if settings.PAGE_CACHE and request.method == "GET" else None
        if response is None:
            response = self.get_response(request)
            if response.status_code != 200:
                return response
            if settings.PAGE_CACHE and self.storable(request, response):
                cache.set(key, response, timeout=CACHE_SECONDS)
        return self.validators(response, etag, changed)

    def applies(self, request):
        return (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not request.path.startswith(self.skipped)
        )

    @staticmethod
    def storable(request, response):
        return (
            request.method == "GET"
            and not response.streaming
            and not response.cookies
            and "no-store" not in response.get("Cache-Control", "")
        )

    @staticmethod
    def validators(response, etag, changed):
        response["ETag"] = etag
        response["Last-Modified"] = http_date(changed)
        # Shared caches and browsers may keep the page but must ask again before using it.
        patch_cache_control(response, no_cache=True)
        return response
