"""The journey a new user takes after `make run`, on the real demo data."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.urls import reverse

from observers.models import Election, Excerpt, Mission

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    return Election.objects.get(slug="kz-2016-03-20-parliamentary")


def test_2016_verdict_matrix_shows_every_demo_mission(client, demo):
    response = client.get(demo.get_absolute_url())
    page = response.content.decode()
    matrix = page[page.index("Verdict matrix") : page.index("What others said they said")]
    missions = Mission.objects.published().filter(election=demo).select_related("organisation")
    assert missions.count() >= 5
    for mission in missions:
        assert mission.get_absolute_url() in matrix
        assert mission.organisation.short_name in matrix


def test_odihr_words_beside_the_ministers_selective_characterisation(client, demo):
    page = client.get(demo.get_absolute_url()).content.decode()
    claim = page.index("The OSCE was clear that the election was well organised and professional.")
    section = page[claim - 2000 : claim + 4000]
    assert "Fidelity: Selective" in section
    assert "still has a considerable way to go in meeting its OSCE commitments" in section


def test_filter_download_follow_and_cite_odihr_critical_statements(client, demo):
    query = {"organisation": "odihr", "stance": "critical", "country": "KZ"}
    response = client.get(reverse("observers:excerpt_list"), query)
    found = response.context["paginator"].count
    assert found >= 2
    assert response.context["summary"].startswith(f"{found} critical excerpts from ODIHR about Kazakhstan")

    csv_response = client.get(reverse("observers:excerpt_export", kwargs={"format": "csv"}), query)
    rows = list(csv.DictReader(io.StringIO(b"".join(csv_response.streaming_content).decode().lstrip("\ufeff"))))
    assert len(rows) == found and {row["stance"] for row in rows} == {"critical"}

    feed = ET.fromstring(client.get(reverse("observers:excerpt_feed"), query).content)
    assert len(feed.findall(f"{ATOM}entry")) == found

    excerpt = Excerpt.objects.published().get(text__startswith="Kazakhstan still has a considerable way to go")
    citation = client.get(excerpt.get_absolute_url()).context["citation"]
    assert excerpt.document.title in citation and "Election Observation Record" in citation
