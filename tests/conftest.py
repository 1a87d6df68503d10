"""Shared fixtures: an admin client and small factories that make valid records with unique values."""

import datetime
import itertools

import pytest
from django.db import connection

from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic

_sequence = itertools.count(1)


def pytest_report_header(config):
    # CI runs the suite once per database: the header shows which one this run uses.
    where = connection.settings_dict["HOST"] or "a local file"
    return f"database: {connection.vendor} at {where} (tests use their own test database)"


def make_organisation(**fields):
    n = next(_sequence)
    values = {
        "name": f"Observer organisation {n}",
        "acronym": f"ORG{n}",
        "slug": f"org-{n}",
        "kind": Organisation.Kind.INTERNATIONAL_NGO,
    }
    return Organisation.objects.create(**(values | fields))


def make_topic(**fields):
    n = next(_sequence)
    return Topic.objects.create(**({"name": f"Topic {n}", "slug": f"topic-{n}"} | fields))


def make_election(**fields):
    n = next(_sequence)
    values = {
        "country": "KZ",
        "kind": Election.Kind.PARLIAMENTARY,
        # One day per election keeps the unique (country, kind, date, round) constraint satisfied.
        "election_date": datetime.date(2000, 1, 1) + datetime.timedelta(days=n),
        "slug": f"election-{n}",
    }
    return Election.objects.create(**(values | fields))


def make_mission(**fields):
    if "organisation" not in fields:
        fields["organisation"] = make_organisation()
    if "election" not in fields:
        fields["election"] = make_election()
    return Mission.objects.create(**({"mission_type": Mission.Type.EOM} | fields))


def make_document(**fields):
    n = next(_sequence)
    if "publisher" not in fields:
        fields["publisher"] = make_organisation()
    values = {
        "title": f"Statement of preliminary findings {n}",
        "kind": Document.Kind.PRELIMINARY,
        "date": datetime.date(2020, 1, 1),
        "url": f"https://example.org/documents/{n}",
    }
    return Document.objects.create(**(values | fields))


def make_excerpt(**fields):
    """An excerpt; by default in a document of the mission's own organisation, so a primary one."""
    n = next(_sequence)
    if "mission" not in fields:
        fields["mission"] = make_mission()
    if "document" not in fields:
        fields["document"] = make_document(publisher=fields["mission"].organisation)
    values = {"text": f"The elections were well administered ({n}).", "stance": Excerpt.Stance.POSITIVE}
    return Excerpt.objects.create(**(values | fields))


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="editor", email="editor@example.org", password="x")


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def organisation_factory(db):
    return make_organisation


@pytest.fixture
def topic_factory(db):
    return make_topic


@pytest.fixture
def election_factory(db):
    return make_election


@pytest.fixture
def mission_factory(db):
    return make_mission


@pytest.fixture
def document_factory(db):
    return make_document


@pytest.fixture
def excerpt_factory(db):
    return make_excerpt
