from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from observers.sitemaps import sitemaps
from observers.views import RobotsView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", RobotsView.as_view(), name="robots"),
    path("", include("observers.urls")),
]
