"""An editor and a publisher take the 2021 CIS statement from an import file to publication."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from observers.models import Document, Election, Excerpt, Mission, Organisation

from .test_import import csv_file, import_file

pytestmark = pytest.mark.django_db

STATEMENT_URL = "http://www.today.az/news/regions/202392.html"
DOCUMENT_ROWS = [
    {
        "url": STATEMENT_URL,
        "title": "Statement of the CIS observers on the parliamentary elections in Kazakhstan (press rendering)",
        "kind": "news",
        "publisher": "cis",
        "language": "en",
        "provenance": "news_rendering",
        "election": "kz-2021-01-10-parliamentary",
        "missions": "cis/kz-2021-01-10-parliamentary/eom",
    }
]
EXCERPT_ROWS = [
    {
        "document": STATEMENT_URL,
        "mission": "cis/kz-2021-01-10-parliamentary/eom",
        "text": "transparent, fair, competitive",
        "language": "en",
        "stance": "positive",
        "is_headline": "1",
    }
]


@pytest.fixture
def cis_mission():
    cis = Organisation.objects.create(
        name="Commonwealth of Independent States", acronym="CIS", slug="cis", kind="intergovernmental"
    )
    election = Election.objects.create(
        country="KZ",
        kind="parliamentary",
        chamber="Mazhilis",
        election_date=datetime.date(2021, 1, 10),
        slug="kz-2021-01-10-parliamentary",
    )
    return Mission.objects.create(
        organisation=cis, election=election, mission_type="eom", accredited_observers=234, status="published"
    )


def login(client, django_user_model, name, role):
    user = django_user_model.objects.create_user(name, f"{name}@example.org", "a-long-passphrase", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def step(client, obj, name, expected=302):
    response = client.post(reverse(f"admin:observers_{obj._meta.model_name}_transition", args=[obj.pk, name]))
    assert response.status_code == expected
    obj.refresh_from_db()


def test_from_import_file_to_publication(client, django_user_model, cis_mission):
    editor = login(client, django_user_model, "editor", "Editor")
    import_file(client, Document, csv_file(DOCUMENT_ROWS), "cis-statement.csv")
    import_file(client, Excerpt, csv_file(EXCERPT_ROWS), "cis-statement-excerpts.csv")
    document = Document.objects.get(url=STATEMENT_URL)
    excerpt = Excerpt.objects.get(document=document)
    assert (document.status, excerpt.status) == ("draft", "draft")
    assert client.get(excerpt.get_absolute_url()).status_code == 200  # the editor's preview
    step(client, document, "submit")
    step(client, excerpt, "submit")
    step(client, excerpt, "publish", expected=403)  # editors do not publish
    assert excerpt.status == "in_review"

    client.logout()
    assert client.get(excerpt.get_absolute_url()).status_code == 404
    publisher = login(client, django_user_model, "publisher", "Publisher")
    step(client, document, "publish")
    step(client, excerpt, "publish")
    assert (document.status, excerpt.status) == ("published", "published")
    client.logout()
    page = client.get(cis_mission.election.get_absolute_url()).content.decode()
    assert "transparent, fair, competitive" in page

    history = [
        (record.history_change_reason, record.history_user, record.status)
        for record in excerpt.history.order_by("history_date")
    ]
    assert history == [
        ("Imported from cis-statement-excerpts.csv", editor, "draft"),
        ("Submit for review", editor, "in_review"),
        ("Publish", publisher, "published"),
    ]
    # The import records the document and then its missions (a many-to-many field): two records.
    reasons = [r.history_change_reason for r in document.history.order_by("history_date")]
    assert set(reasons[:-2]) == {"Imported from cis-statement.csv"}
    assert reasons[-2:] == ["Submit for review", "Publish"]

    # The same files again change nothing: no new rows, no new history, still published.
    client.force_login(editor)
    before = (Document.history.count(), Excerpt.history.count(), Document.objects.count(), Excerpt.objects.count())
    import_file(client, Document, csv_file(DOCUMENT_ROWS), "cis-statement.csv")
    import_file(client, Excerpt, csv_file(EXCERPT_ROWS), "cis-statement-excerpts.csv")
    after = (Document.history.count(), Excerpt.history.count(), Document.objects.count(), Excerpt.objects.count())
    assert after == before
    excerpt.refresh_from_db()
    assert excerpt.status == "published" and excerpt.public
