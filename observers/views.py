from django.views.generic import DetailView, ListView, TemplateView

from .models import Document, Election, Excerpt, Mission, Organisation


class HomeView(TemplateView):
    template_name = "observers/home.html"


class ElectionListView(ListView):
    queryset = Election.objects.all()


class ElectionDetailView(DetailView):
    queryset = Election.objects.all()


class OrganisationListView(ListView):
    queryset = Organisation.objects.all()


class OrganisationDetailView(DetailView):
    queryset = Organisation.objects.all()


class MissionListView(ListView):
    queryset = Mission.objects.published()


class MissionDetailView(DetailView):
    queryset = Mission.objects.published()


class DocumentListView(ListView):
    queryset = Document.objects.published()


class DocumentDetailView(DetailView):
    queryset = Document.objects.published()


class ExcerptListView(ListView):
    queryset = Excerpt.objects.published()


class ExcerptDetailView(DetailView):
    queryset = Excerpt.objects.published()


class CharacterisationListView(ListView):
    queryset = Excerpt.objects.published().characterisations()


class MethodologyView(TemplateView):
    template_name = "observers/methodology.html"
