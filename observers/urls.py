from django.urls import path, register_converter

from . import views
from .feeds import ExcerptFeed


class ExportFormat:
    regex = "csv|json"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ExportFormat, "export")

app_name = "observers"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("elections/", views.ElectionListView.as_view(), name="election_list"),
    path("elections.<export:format>", views.ElectionListView.as_view(), name="election_export"),
    path("elections/<slug:slug>/", views.ElectionDetailView.as_view(), name="election_detail"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations.<export:format>", views.OrganisationListView.as_view(), name="organisation_export"),
    path("organisations/<slug:slug>/", views.OrganisationDetailView.as_view(), name="organisation_detail"),
    path("missions/", views.MissionListView.as_view(), name="mission_list"),
    path("missions.<export:format>", views.MissionListView.as_view(), name="mission_export"),
    path("missions/<int:pk>/", views.MissionDetailView.as_view(), name="mission_detail"),
    path("documents/", views.DocumentListView.as_view(), name="document_list"),
    path("documents.<export:format>", views.DocumentListView.as_view(), name="document_export"),
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document_detail"),
    path("excerpts/", views.ExcerptListView.as_view(), name="excerpt_list"),
    path("excerpts.<export:format>", views.ExcerptListView.as_view(), name="excerpt_export"),
    path("excerpts/feed/", ExcerptFeed(), name="excerpt_feed"),
    path("excerpts/<int:pk>/", views.ExcerptDetailView.as_view(), name="excerpt_detail"),
    path("excerpts/<int:pk>/cite.<str:format>", views.CitationView.as_view(), name="excerpt_citation"),
    path("characterisations/", views.CharacterisationListView.as_view(), name="characterisation_list"),
    path(
        "characterisations.<export:format>",
        views.CharacterisationListView.as_view(),
        name="characterisation_export",
    ),
    path("methodology/", views.MethodologyView.as_view(), name="methodology"),
]
