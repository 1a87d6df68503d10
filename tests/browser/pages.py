"""Every public page type, as an address in the demo data, for the browser tests that visit them all."""

from django.urls import reverse

from observers.models import Excerpt, Mission

ELECTION_2016 = "kz-2016-03-20-parliamentary"
# A primary passage that others characterised, and the Foreign Minister's characterisation of it.
PRIMARY_TEXT = "still has a considerable way to go"
CLAIM_TEXT = "The OSCE was clear that the election was well organised"


def primary():
    return Excerpt.objects.select_related("document").get(text__contains=PRIMARY_TEXT)


# {page type: a function that returns its address once the demo data is loaded}
PUBLIC_PAGES = {
    "home": lambda: reverse("observers:home"),
    "election list": lambda: reverse("observers:election_list"),
    "election": lambda: reverse("observers:election_detail", args=[ELECTION_2016]),
    "organisation list": lambda: reverse("observers:organisation_list"),
    "organisation": lambda: reverse("observers:organisation_detail", args=["odihr"]),
    "mission list": lambda: reverse("observers:mission_list"),
    "mission": lambda: Mission.objects.get(organisation__slug="odihr", election__slug=ELECTION_2016).get_absolute_url(),
    "document list": lambda: reverse("observers:document_list"),
    "document": lambda: primary().document.get_absolute_url(),
    "excerpt list": lambda: reverse("observers:excerpt_list"),
    "excerpt list, filtered": lambda: reverse("observers:excerpt_list") + "?q=election&stance=critical&country=KZ",
    "excerpt list, invalid filter": lambda: reverse("observers:excerpt_list") + "?year_from=soon&stance=angry&page=x",
    "excerpt": lambda: primary().get_absolute_url(),
    "characterisation": lambda: Excerpt.objects.get(text__contains=CLAIM_TEXT).get_absolute_url(),
    "characterisation list": lambda: reverse("observers:characterisation_list"),
    "methodology": lambda: reverse("observers:methodology"),
    "not found": lambda: "/no-such-page/",
}
