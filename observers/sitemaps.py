from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Document, Election, Excerpt, Mission, Organisation, excerpt_url
from .views import record_numbers


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


class CountedSection:
    """A section whose size the record's numbers already hold (counted once per record version),
    so that the sitemap index does not count it again."""

    number = ""

    @property
    def paginator(self):
        paginator = super().paginator
        paginator.count = record_numbers()[self.number]
        return paginator


class ElectionSitemap(CountedSection, Sitemap):
    number = "elections"  # elections with a published mission

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


class MissionSitemap(NoSectionDate, CountedSection, Sitemap):
    number = "missions"

    def items(self):
        return Mission.objects.published().order_by("pk")

    def lastmod(self, mission):
        return mission.updated_at


class DocumentSitemap(NoSectionDate, Sitemap):
    def items(self):
        return Document.objects.published().order_by("pk")

    def lastmod(self, document):
        return document.updated_at


class ExcerptSitemap(NoSectionDate, CountedSection, Sitemap):
    """The largest section, in pages of 1,000, read along the published rows' sort-key index."""

    limit = 1000
    number = "excerpts"

    def items(self):
        # (pk, updated_at) pairs rather than model objects: a page of a thousand builds faster.
        return Excerpt.objects.published().order_by("-sort_key").values_list("pk", "updated_at")

    def location(self, item):
        return excerpt_url(item[0])

    def lastmod(self, item):
        return item[1]


sitemaps = {
    "pages": StaticSitemap,
    "elections": ElectionSitemap,
    "organisations": OrganisationSitemap,
    "missions": MissionSitemap,
    "documents": DocumentSitemap,
    "excerpts": ExcerptSitemap,
}
