"""Views of the site as a service, rather than of the record: health check and error pages."""

import logging
import sys
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

from .middleware import DATABASE_DOWN, service_unavailable

logger = logging.getLogger(__name__)


def database_works():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError as error:
        logger.warning("Health check: database unavailable: %s", error)
        return False


def cache_works():
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        found = cache.get(key)
        cache.delete(key)
    except Exception as error:  # any cache back end, any failure: the check says so instead of a 500
        logger.warning("Health check: cache unavailable: %s", error)
        return False
    if found != value:
        logger.warning("Health check: cache unavailable: a value just stored could not be read back")
    return found == value


@never_cache
def healthz(request):
    """For load balancers and monitoring: 200 when the database and the cache both answer, 503 otherwise."""
    checks = {"database": database_works(), "cache": cache_works()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"} | {
        name: "ok" if works else "unavailable" for name, works in checks.items()
    }
    return JsonResponse(body, status=200 if healthy else 503)


def server_error(request):
    """handler500: a database outage met outside a view (in a middleware) still gets the 503 page."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return service_unavailable()
    return HttpResponseServerError(render_to_string("500.html"))
