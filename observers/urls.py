from django.urls import path

from . import views

app_name = "observers"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("elections/", views.ElectionListView.as_view(), name="election_list"),
    path("elections/<slug:slug>/", views.ElectionDetailView.as_view(), name="election_detail"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation_list"),
    path("organisations/<slug:slug>/", views.OrganisationDetailView.as_view(), name="organisation_detail"),
    path("missions/", views.MissionListView.as_view(), name="mission_list"),
    path("missions/<int:pk>/", views.MissionDetailView.as_view(), name="mission_detail"),
    path("documents/", views.DocumentListView.as_view(), name="document_list"),
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document_detail"),
    path("excerpts/", views.ExcerptListView.as_view(), name="excerpt_list"),
    path("excerpts/<int:pk>/", views.ExcerptDetailView.as_view(), name="excerpt_detail"),
    path("characterisations/", views.CharacterisationListView.as_view(), name="characterisation_list"),
    path("methodology/", views.MethodologyView.as_view(), name="methodology"),
]
