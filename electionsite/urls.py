from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from observers.admin import editorial_desk
from observers.resources import import_template
from observers.sitemaps import sitemaps
from observers.views import RobotsView

urlpatterns = [
    path(
        "admin/<slug:app_label>/<slug:model_name>/import-template.csv",
        admin.site.admin_view(import_template),
        name="import_template",
    ),
    path("admin/desk/", admin.site.admin_view(editorial_desk), name="editorial_desk"),
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", RobotsView.as_view(), name="robots"),
    path("", include("observers.urls")),
]
