"""Request plumbing of the whole site: headers, the client's address, and a database outage."""

import base64
import hashlib
import logging

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)

# Powerful browser features the site never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def csp_hash(source):
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    return f"'sha256-{digest}'"


# Third-party admin templates still carry a few inline attributes (django-import-export's export page,
# django-simple-history's history list): allowed in the admin only, each by the hash of its exact text.
ADMIN_INLINE_ATTRIBUTES = {
    "script-src": ["'unsafe-hashes'", csp_hash("onSelectToggleChange(event)")],
    "style-src": ["'unsafe-hashes'", *map(csp_hash, ["padding: 0;", "font-weight: bold;", "border-top: 0"])],
}


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY), widened in the admin by ADMIN_INLINE_ATTRIBUTES."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith("/" + settings.ADMIN_URL) and parts.update is None:
            parts.update = ADMIN_INLINE_ATTRIBUTES
        return parts


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def service_unavailable():
    """The 503 page: rendered without a request, so nothing in it can touch the database."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A page that cannot reach the database answers 503 with a page in the site's design.

    Nothing to reset afterwards: Django opens a new connection for the next request once the database
    is back (CONN_HEALTH_CHECKS drops a broken persistent one).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN):
            logger.error("Database unavailable, answering 503 for %s: %s", request.path, exception)
            return service_unavailable()
        return None


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind DJANGO_TRUSTED_PROXIES proxies the address the
    outermost of them saw, from X-Forwarded-For (entries further left can be forged by the client)."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
