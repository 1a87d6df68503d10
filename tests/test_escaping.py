"""An XSS payload in every text field of every model stays inert everywhere the record shows it.

HTML pages (public and admin) carry only its escaped form; CSV and JSON carry it as data, exactly; the
Atom feed escapes it as XML; the JSON-LD block parses back to the exact text and cannot close its
script element.
"""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic

PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
URL_PAYLOAD = 'https://example.org/"><script>alert(1)</script>'
# What must never reach an HTML page as markup.
LIVE = ["<script>alert(1)", "<img src=x"]
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ATOM = "{http://www.w3.org/2005/Atom}"


def hostile(model, n, **fields):
    """Every editable free-text field of `model` holds the payload (cut to the field's length)."""
    for field in model._meta.concrete_fields:
        free_text = isinstance(field, models.CharField | models.TextField) and not isinstance(
            field, models.SlugField | models.URLField
        )
        if free_text and field.editable and not field.choices and field.name not in fields:
            fields[field.name] = f"{PAYLOAD} {n}"[: field.max_length]
    return fields


@pytest.fixture
def record(db):
    parent = Organisation.objects.create(**hostile(Organisation, 1, slug="parent", kind="intergovernmental"))
    observer = Organisation.objects.create(
        **hostile(Organisation, 2, slug="observer", kind="intergovernmental", parent=parent, website=URL_PAYLOAD)
    )
    ministry = Organisation.objects.create(**hostile(Organisation, 3, slug="ministry", kind="government"))
    topic = Topic.objects.create(**hostile(Topic, 4, slug="hostile-topic"))
    election = Election.objects.create(
        **hostile(Election, 5, country="KZ", kind="parliamentary", election_date="2016-03-20", slug="kz-2016")
    )
    mission = Mission.objects.create(
        **hostile(Mission, 6, organisation=observer, election=election, mission_type="eom", status="published")
    )
    report = Document.objects.create(
        **hostile(
            Document,
            7,
            kind="final",
            publisher=observer,
            election=election,
            date="2016-06-27",
            url=URL_PAYLOAD,
            archive_url=URL_PAYLOAD + "/archive",
            status="published",
        )
    )
    report.missions.add(mission)
    op_ed = Document.objects.create(
        **hostile(Document, 8, kind="op_ed", publisher=ministry, date="2016-03-21", status="published")
    )
    primary = Excerpt.objects.create(
        **hostile(
            Excerpt,
            9,
            mission=mission,
            document=report,
            stance="critical",
            is_headline=True,
            translation_status="editor",
            status="published",
        )
    )
    primary.topics.add(topic)
    claim = Excerpt.objects.create(
        **hostile(
            Excerpt,
            10,
            mission=mission,
            document=op_ed,
            stance="positive",
            translation_status="editor",
            fidelity="selective",
            status="published",
        )
    )
    claim.primary_excerpts.add(primary)
    mission.verdict, mission.verdict_excerpt = "critical", primary
    mission.save()
    return {
        "organisations": [parent, observer, ministry],
        "topic": topic,
        "election": election,
        "mission": mission,
        "documents": [report, op_ed],
        "excerpts": [primary, claim],
    }


def text_of(response):
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def assert_inert_html(response, url, expect_payload=True):
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/html"), url
    page = text_of(response)
    # The JSON-LD block is data, checked on its own below; everything else is markup.
    markup = re.sub(r'<script type="application/ld\+json">.*?</script>', "", page, flags=re.DOTALL)
    for live in LIVE:
        assert live not in markup, f"{url}: {live!r} is live markup"
    if expect_payload:
        assert ESCAPED in page or "&lt;script&gt;alert(1)" in page, f"{url} does not show the text at all"


def public_pages(record):
    urls = [reverse("observers:home"), reverse("observers:methodology")]
    for name in ["election", "organisation", "mission", "document", "excerpt", "characterisation"]:
        urls.append(reverse(f"observers:{name}_list"))
    urls += [obj.get_absolute_url() for obj in record["organisations"]]
    urls += [record["election"].get_absolute_url(), record["mission"].get_absolute_url()]
    urls += [obj.get_absolute_url() for obj in record["documents"] + record["excerpts"]]
    return urls


def test_public_pages_show_only_the_escaped_text(client, record):
    for url in public_pages(record):
        assert_inert_html(client.get(url), url)


def test_what_a_visitor_types_is_escaped_where_it_is_shown_again(client, record):
    # Search words and filter values come back in the form, the summary and the "ignored" messages.
    for name in ["election", "organisation", "mission", "document", "excerpt", "characterisation"]:
        url = reverse(f"observers:{name}_list")
        names = ["q", "organisation", "country", "stance", "topic", "page", "sort", "kind", "fidelity", "year"]
        response = client.get(url, dict.fromkeys(names, PAYLOAD))
        assert_inert_html(response, url, expect_payload=False)


def test_links_carry_the_url_escaped(client, record):
    page = text_of(client.get(record["documents"][0].get_absolute_url()))
    assert 'href="https://example.org/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_json_ld_parses_to_the_exact_text_and_cannot_end_its_script(client, record):
    primary, claim = record["excerpts"]
    for excerpt in (primary, claim):
        page = text_of(client.get(excerpt.get_absolute_url()))
        blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, flags=re.DOTALL)
        assert len(blocks) == 1
        assert "<" not in blocks[0]  # so neither </script> nor <!-- can appear in it
        data = json.loads(blocks[0])
        if excerpt is claim:
            assert data["@type"] == "ClaimReview"
            assert data["claimReviewed"] == claim.text
            assert data["reviewRating"]["ratingExplanation"] == claim.fidelity_note
            assert data["itemReviewed"]["author"]["name"] == claim.document.author
        else:
            assert data["text"] == primary.text
            assert data["isPartOf"]["name"] == primary.document.title
            assert data["isPartOf"]["url"] == URL_PAYLOAD


def test_exports_carry_the_exact_text_as_data(client, record):
    primary, claim = record["excerpts"]
    rows = json.loads(text_of(client.get(reverse("observers:excerpt_export", kwargs={"format": "json"}))))
    by_id = {row["id"]: row for row in rows}
    assert by_id[primary.pk]["text"] == primary.text
    assert by_id[primary.pk]["translation"] == primary.translation
    assert by_id[primary.pk]["document_url"] == URL_PAYLOAD
    assert by_id[claim.pk]["fidelity_note"] == claim.fidelity_note
    response = client.get(reverse("observers:excerpt_export", kwargs={"format": "csv"}))
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(text_of(response).lstrip("\ufeff"))))
    assert {row["text"] for row in table} == {primary.text, claim.text}
    for name in ["election", "organisation", "mission", "document", "characterisation"]:
        for fmt, content_type in [("csv", "text/csv"), ("json", "application/json")]:
            response = client.get(reverse(f"observers:{name}_export", kwargs={"format": fmt}))
            assert response["Content-Type"].startswith(content_type)
            assert response["Content-Disposition"].startswith("attachment")
            if fmt == "json":
                json.loads(text_of(response))
            else:
                text_of(response)


def test_citations_are_not_html(client, record):
    for excerpt in record["excerpts"]:
        for fmt in ["bib", "ris"]:
            response = client.get(reverse("observers:excerpt_citation", kwargs={"pk": excerpt.pk, "format": fmt}))
            assert not response["Content-Type"].startswith("text/html")
            assert response["X-Content-Type-Options"] == "nosniff"


def test_feed_escapes_it_as_xml(client, record):
    response = client.get(reverse("observers:excerpt_feed"))
    raw = response.content.decode()
    for live in LIVE:
        assert live not in raw
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        summary = entry.find(f"{ATOM}summary")
        assert summary.get("type") == "html"
        # Once the XML is read, the summary is HTML in which the text is still escaped.
        assert ESCAPED in summary.text
        for live in LIVE:
            assert live not in summary.text
        assert entry.find(f"{ATOM}author/{ATOM}name").text.startswith(PAYLOAD[:30])  # text, not markup


def admin_pages(record):
    urls = [reverse("admin:index"), reverse("editorial_desk")]
    objects = [
        *record["organisations"],
        record["topic"],
        record["election"],
        record["mission"],
        *record["documents"],
        *record["excerpts"],
    ]
    for obj in objects:
        info = obj._meta.app_label, obj._meta.model_name
        urls += [
            reverse("admin:{}_{}_changelist".format(*info)),
            reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
            reverse("admin:{}_{}_history".format(*info), args=[obj.pk]),
        ]
    return list(dict.fromkeys(urls))


def test_admin_pages_show_only_the_escaped_text(superuser_client, record):
    for url in admin_pages(record):
        response = superuser_client.get(url)
        assert_inert_html(response, url, expect_payload=url != reverse("admin:index") and "/history/" not in url)


@pytest.mark.parametrize("address", ["javascript:alert(1)", "ftp://example.org/report.pdf", "data:text/html,x"])
def test_only_web_addresses_are_accepted(db, address):
    organisation = Organisation(name="Observers", slug="observers", kind="other", website=address)
    with pytest.raises(ValidationError) as error:
        organisation.full_clean()
    assert "website" in error.value.message_dict
    document = Document(title="Report", kind="final", publisher=organisation, url=address, archive_url=address)
    with pytest.raises(ValidationError) as error:
        document.clean_fields(exclude=["publisher"])
    assert {"url", "archive_url"} <= error.value.message_dict.keys()


def test_the_admin_refuses_a_javascript_link(superuser_client, record):
    organisation = record["organisations"][0]
    response = superuser_client.post(
        reverse("admin:observers_organisation_add"),
        {"name": "New body", "slug": "new-body", "kind": "other", "website": "javascript:alert(1)"},
    )
    assert response.status_code == 200
    assert "Enter a web address" in response.content.decode() or "Enter a valid URL" in response.content.decode()
    assert not Organisation.objects.filter(slug="new-body").exists()
    assert Organisation.objects.filter(pk=organisation.pk).exists()
