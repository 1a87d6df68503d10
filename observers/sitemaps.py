from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Document, Election, Excerpt, Mission, Organisation
from .views import excerpt_url, record_numbers


class StaticSitemap(Sitemap):
    def items(self):
        return [
            "observers:home",
            "observers:election_list",
            "observers:organisation_list",
            "observers:mission_list",
            "observers:document_list",
            "observers:excerpt_list",
            "observers:characterisation_list",
            "observers:methodology",
        ]

    def location(self, item):
        return reverse(item)


class ElectionSitemap(Sitemap):
    def items(self):
        return Election.objects.filter(pk__in=Mission.objects.published().values("election")).order_by("pk")


class OrganisationSitemap(Sitemap):
    def items(self):
        return Organisation.objects.order_by("pk")


class NoSectionDate:
    """No date for the section in the index: Django's default loads every item to find the latest,
    and even one MAX() reads a million rows. Each address in the section's pages keeps its date."""

    def get_latest_lastmod(self):
        return None


class MissionSitemap(NoSectionDate, Sitemap):
    def items(self):
        return Mission.objects.published().order_by("pk")

    def lastmod(self, mission):
        return mission.updated_at


class DocumentSitemap(NoSectionDate, Sitemap):
    def items(self):
        return Document.objects.published().order_by("pk")

    def lastmod(self, document):
        return document.updated_at


class ExcerptSitemap(NoSectionDate, Sitemap):
    """The largest section, in pages of 1,000, read along the published rows' sort-key index."""

    limit = 1000

    def items(self):
        return Excerpt.objects.published().only("pk", "updated_at", "sort_key").order_by("-sort_key")

    @property
    def paginator(self):
        paginator = super().paginator
        paginator.count = record_numbers()["excerpts"]  # counted once per record version, from an index
        return paginator

    def location(self, excerpt):
        return excerpt_url(excerpt.pk)

    def lastmod(self, excerpt):
        return excerpt.updated_at


sitemaps = {
    "pages": StaticSitemap,
    "elections": ElectionSitemap,
    "organisations": OrganisationSitemap,
    "missions": MissionSitemap,
    "documents": DocumentSitemap,
    "excerpts": ExcerptSitemap,
}
