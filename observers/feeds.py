import re

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .filters import ExcerptFilter
from .views import published_excerpts

FEED_LENGTH = 50
# What an entry shows: its excerpt, the excerpt's mission, organisation, election and document.
FEED_FIELDS = [
    "language", "text", "translation", "translation_status", "stance", "is_characterisation", "fidelity",
    "published_at", "updated_at", "mission__organisation__name", "mission__organisation__acronym",
    "mission__election__country", "mission__election__kind", "mission__election__chamber",
    "mission__election__election_date", "mission__election__round", "document__title", "document__date",
    "document__author", "document__publisher__name",
]  # fmt: skip
# XML 1.0 cannot carry these: a vertical tab pasted into an excerpt or typed into a search would
# otherwise make the whole feed fail.
NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_safe(value):
    if isinstance(value, str):
        return NOT_IN_XML.sub("", value)
    if isinstance(value, list | tuple):
        return [xml_safe(item) for item in value]
    return value


class XMLSafeAtom1Feed(Atom1Feed):
    def write(self, outfile, encoding):
        self.feed = {name: xml_safe(value) for name, value in self.feed.items()}
        self.items = [{name: xml_safe(value) for name, value in item.items()} for item in self.items]
        super().write(outfile, encoding)


class ExcerptFeed(Feed):
    """Newly published excerpts, with the same filters as the excerpts page."""

    feed_type = XMLSafeAtom1Feed
    description_template = "observers/_feed_item.html"

    def get_object(self, request):
        self.request = request
        return ExcerptFilter(request.GET or None, queryset=published_excerpts())

    def title(self, filterset):
        return "Election Observation Record: " + filterset.describe(FEED_LENGTH).split(" ", 1)[1]

    def subtitle(self, filterset):
        return f"The latest {FEED_LENGTH} newly published excerpts matching these filters."

    def link(self, filterset):
        query = self.request.GET.urlencode()
        return reverse("observers:excerpt_list") + (f"?{query}" if query else "")

    def items(self, filterset):
        return filterset.qs.only(*FEED_FIELDS).order_by("-published_at", "-pk")[:FEED_LENGTH]

    def item_title(self, excerpt):
        label = "Characterisation" if excerpt.is_characterisation else excerpt.get_stance_display()
        return f"{label}: {excerpt.mission.organisation.short_name} on the {excerpt.mission.election}"

    def item_pubdate(self, excerpt):
        return excerpt.published_at

    def item_updateddate(self, excerpt):
        return excerpt.updated_at

    def item_author_name(self, excerpt):
        return excerpt.document.author or excerpt.document.publisher.name
