from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path

from electionsite.views import healthz
from observers.admin import editorial_desk
from observers.resources import import_template
from observers.sitemaps import sitemaps
from observers.views import RobotsView

urlpatterns = [
    path(
        f"{settings.ADMIN_URL}<slug:app_label>/<slug:model_name>/import-template.csv",
        admin.site.admin_view(import_template),
        name="import_template",
    ),
    path(f"{settings.ADMIN_URL}desk/", admin.site.admin_view(editorial_desk), name="editorial_desk"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # An index of sections, each in pages: one file of a million addresses would be too large.
    path(
        "sitemap.xml", sitemap_views.index, {"sitemaps": sitemaps, "sitemap_url_name": "sitemap"}, name="sitemap-index"
    ),
    # Django's own template, without what no section gives (change frequency, priority, alternate
    # languages): a page of a thousand addresses renders in a third of the time.
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": sitemaps, "template_name": "observers/sitemap.xml"},
        name="sitemap",
    ),
    path("robots.txt", RobotsView.as_view(), name="robots"),
    path("", include("observers.urls")),
]

handler500 = "electionsite.views.server_error"
