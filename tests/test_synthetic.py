"""generate_synthetic: a synthetic record that is consistent, searchable, deterministic, and kept apart
from the real one."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from observers import search
from observers.management.commands import generate_synthetic
from observers.models import Document, Election, Excerpt, Mission, Organisation, Publishable, make_sort_key
from observers.signals import record_version

from .conftest import make_document, make_excerpt, make_mission, make_organisation, make_topic

pytestmark = pytest.mark.django_db
PUBLISHED = Publishable.Status.PUBLISHED
SIZE = 3000


def generate(**options):
    out = StringIO()
    call_command("generate_synthetic", stdout=out, **({"excerpts": SIZE} | options))
    return out.getvalue()


def synthetic_excerpts():
    return Excerpt.objects.filter(organisation__slug__startswith="synthetic-").order_by("pk")


def snapshot():
    """The synthetic record, without its ids."""
    excerpts = synthetic_excerpts().select_related("document", "mission__election")
    return [
        (
            excerpt.text,
            excerpt.stance,
            excerpt.page,
            excerpt.is_headline,
            excerpt.fidelity,
            excerpt.status,
            excerpt.public,
            excerpt.maybe_duplicate,
            excerpt.document.title,
            excerpt.document_date,
            excerpt.mission.head,
            excerpt.mission.election.slug,
            sorted(excerpt.topics.values_list("slug", flat=True)),
        )
        for excerpt in excerpts
    ]


def test_makes_the_record_asked_for_with_every_copy_right():
    out = generate()

    assert "3,000 excerpts in" in out and "excerpts a second" in out
    excerpts = synthetic_excerpts()
    assert excerpts.count() == Excerpt.objects.count() == SIZE
    # The copies are what saving each excerpt would have made them.
    for field, source in [
        ("organisation", "mission__organisation"),
        ("election", "mission__election"),
        ("country", "mission__election__country"),
        ("election_date", "mission__election__election_date"),
        ("document_date", "document__date"),
        ("document_kind", "document__kind"),
        ("provenance", "document__provenance"),
        ("document_publisher", "document__publisher"),
    ]:
        assert not excerpts.exclude(**{field: F(source)}).exists(), field
    for excerpt in excerpts.select_related("document", "mission"):
        assert excerpt.public == excerpt.is_public
        assert excerpt.sort_key == make_sort_key(excerpt.document_date, excerpt.pk)
        assert excerpt.is_characterisation == (excerpt.document.publisher_id != excerpt.mission.organisation_id)
        assert bool(excerpt.fidelity) == excerpt.is_characterisation
        assert excerpt.document.missions.filter(pk=excerpt.mission_id).exists()
    # A few of each kind, as in a real record.
    assert excerpts.filter(is_characterisation=True).exists() and excerpts.filter(public=False).exists()
    assert excerpts.exclude(topics=None).exists() and excerpts.filter(topics=None).exists()
    assert set(excerpts.values_list("stance", flat=True)) == set(Excerpt.Stance.values)
    assert not Mission.objects.exclude(status=PUBLISHED).exclude(published_at=None).exists()
    assert not Document.objects.exclude(status=PUBLISHED).exclude(published_at=None).exists()


@pytest.mark.parametrize("batch", [20_000, 50])
def test_excerpts_with_the_same_text_in_a_document_are_flagged_as_saving_them_would(monkeypatch, batch):
    # Few sentences, so that the excerpts of a document often share a text.
    monkeypatch.setattr(generate_synthetic, "SENTENCES", 30)
    generate(batch=batch)

    rows = list(synthetic_excerpts().values_list("pk", "document", "text", "maybe_duplicate"))
    texts = Counter((document, text) for _, document, text, _ in rows)
    flagged = {pk for pk, *_, flag in rows if flag}
    assert flagged == {pk for pk, document, text, _ in rows if texts[document, text] > 1}
    assert 0 < len(flagged) < len(rows)


def test_the_search_index_holds_the_synthetic_excerpts():
    generate()

    rare = Excerpt.objects.filter(text__icontains="quokka")
    assert rare.exists()
    assert set(search.matching(Excerpt.objects.all(), "quokka")) == set(rare)
    assert search.matching(Excerpt.objects.all(), "observers").count() > SIZE // 2


def test_the_same_seed_makes_the_same_record_and_another_seed_another():
    generate(seed=7)
    first = snapshot()

    generate(seed=7, replace=True, batch=700)
    assert snapshot() == first
    generate(seed=8, replace=True)
    assert snapshot() != first


def test_replace_removes_only_synthetic_records_and_writes_no_history():
    organisation = make_organisation()
    mission = make_mission(organisation=organisation, status=PUBLISHED)
    document = make_document(publisher=organisation, status=PUBLISHED)
    real = make_excerpt(mission=mission, document=document, status=PUBLISHED, text="A real passage.")
    real.topics.add(make_topic())
    history = Excerpt.history.count(), Document.history.count(), Mission.history.count()

    generate()
    with pytest.raises(CommandError, match="--replace"):
        generate()
    version = record_version()
    out = generate(replace=True, excerpts=SIZE // 2)

    assert "Deleted the earlier synthetic data." in out
    assert record_version() != version
    assert synthetic_excerpts().count() == SIZE // 2
    assert Excerpt.objects.exclude(organisation__slug__startswith="synthetic-").get() == real
    real.refresh_from_db()
    assert (real.text, real.public, real.topics.count()) == ("A real passage.", True, 1)
    assert Organisation.objects.exclude(slug__startswith="synthetic-").get() == organisation
    assert Election.objects.exclude(slug__startswith="synthetic-").get() == mission.election
    assert (Excerpt.history.count(), Document.history.count(), Mission.history.count()) == history
    assert set(search.matching(Excerpt.objects.all(), "real passage")) == {real}


def test_no_excerpts_with_replace_only_removes_the_synthetic_data():
    real = make_excerpt(text="A real passage.")
    with pytest.raises(CommandError, match="at least 1"):
        generate(excerpts=0)
    assert "No synthetic data to remove." in generate(excerpts=0, replace=True)

    generate()
    assert generate(excerpts=0, replace=True, verbosity=0) == ""

    assert not Organisation.objects.filter(slug__startswith="synthetic-").exists()
    assert not Election.objects.filter(slug__startswith="synthetic-").exists()
    assert list(Excerpt.objects.all()) == [real]
    assert set(search.matching(Excerpt.objects.all(), "real passage")) == {real}
