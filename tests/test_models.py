import datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import NoReverseMatch, reverse, set_script_prefix

from observers.models import Document, Election, Excerpt, Mission, Organisation, excerpt_urls, record_url

pytestmark = pytest.mark.django_db

PUBLISHED = Mission.Status.PUBLISHED


def assert_rejected(write, constraint=None):
    """The write fails in the database; a named check constraint is named in the error.

    SQLite does not name unique constraints in its errors, and a field's own check (such as the one
    Django adds for a positive integer) may fire first, so those callers pass no name.
    """
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        write()
    if constraint:
        assert constraint in str(error.value)


def messages(instance):
    with pytest.raises(ValidationError) as error:
        instance.full_clean()
    return error.value.message_dict


# Constraints: the database refuses what clean() would have refused with a readable message.


def test_election_unique_country_kind_date_round(election_factory):
    election = election_factory()
    twin = {
        "country": election.country,
        "kind": election.kind,
        "election_date": election.election_date,
        "round": election.round,
    }
    assert_rejected(lambda: Election.objects.create(slug="twin", **twin))
    assert messages(Election(slug="twin", **twin))["__all__"] == ["This election is already in the record."]
    Election.objects.create(slug="second-round", **(twin | {"round": 2}))


def test_election_round_positive(election_factory):
    election = election_factory()
    assert_rejected(lambda: Election.objects.filter(pk=election.pk).update(round=0), "election_round_positive")
    election.round = 0
    assert "The round is 1 or more." in messages(election)["__all__"]


def test_mission_unique_organisation_election_type(mission_factory):
    mission = mission_factory()
    twin = {"organisation": mission.organisation, "election": mission.election, "mission_type": mission.mission_type}
    assert_rejected(lambda: Mission.objects.create(**twin))
    assert messages(Mission(**twin))["__all__"] == [
        "This organisation already has a mission of this type at this election."
    ]
    Mission.objects.create(**(twin | {"mission_type": Mission.Type.NEEDS_ASSESSMENT}))


def test_mission_deployment_in_order(mission_factory):
    mission = mission_factory(deployed_from=datetime.date(2020, 1, 1), deployed_to=datetime.date(2020, 1, 1))
    assert mission.days_deployed == 1
    assert_rejected(
        lambda: Mission.objects.filter(pk=mission.pk).update(deployed_to=datetime.date(2019, 12, 31)),
        "mission_deployment_in_order",
    )
    mission.deployed_to = datetime.date(2019, 12, 31)
    assert messages(mission)["__all__"] == ["The deployment ends before it starts."]


@pytest.mark.parametrize("field", ["core_team", "long_term_observers", "short_term_observers", "accredited_observers"])
def test_mission_observer_numbers_not_negative(mission_factory, field):
    mission = mission_factory()
    assert_rejected(lambda: Mission.objects.filter(pk=mission.pk).update(**{field: -1}))
    setattr(mission, field, -1)
    assert field in messages(mission)
    Mission.objects.filter(pk=mission.pk).update(**{field: 0})


def test_organisation_not_own_parent(organisation_factory):
    organisation = organisation_factory()
    assert_rejected(
        lambda: Organisation.objects.filter(pk=organisation.pk).update(parent=organisation),
        "organisation_not_own_parent",
    )
    organisation.parent = organisation
    assert messages(organisation)["parent"] == ["An organisation cannot belong to itself."]


def test_organisation_cannot_belong_to_its_own_child(organisation_factory):
    parent = organisation_factory()
    child = organisation_factory(parent=parent)
    parent.parent = child
    assert messages(parent)["parent"] == ["An organisation cannot belong to itself."]


def test_organisation_endorsement_date_needs_endorsement(organisation_factory):
    organisation = organisation_factory()
    assert_rejected(
        lambda: Organisation.objects.filter(pk=organisation.pk).update(
            endorsed_declaration=False, endorsed_declaration_on=datetime.date(2005, 10, 27)
        ),
        "organisation_endorsement_date_needs_endorsement",
    )
    organisation.endorsed_declaration_on = datetime.date(2005, 10, 27)
    assert messages(organisation)["endorsed_declaration_on"] == ["A date of endorsement needs “endorsed” to be ticked."]
    Organisation.objects.filter(pk=organisation.pk).update(
        endorsed_declaration=True, endorsed_declaration_on=datetime.date(2005, 10, 27)
    )


def test_document_unique_url(document_factory):
    document = document_factory()
    assert_rejected(lambda: document_factory(url=document.url))
    twin = Document(title="Twin", kind=Document.Kind.FINAL, publisher=document.publisher, url=document.url)
    assert messages(twin)["__all__"] == ["Another document already has this URL."]


def test_document_url_may_be_empty_on_many(document_factory):
    document_factory(url="")
    document_factory(url="")
    assert Document.objects.filter(url="").count() == 2


def test_excerpt_translation_needs_status(excerpt_factory):
    excerpt = excerpt_factory(language="ru", text="Выборы прошли спокойно.")
    assert_rejected(
        lambda: Excerpt.objects.filter(pk=excerpt.pk).update(translation="The elections were calm."),
        "excerpt_translation_needs_status",
    )
    excerpt.translation = "The elections were calm."
    assert messages(excerpt)["__all__"] == ["Say whether the translation is official, unofficial or the editor's."]
    excerpt.translation_status = Excerpt.TranslationStatus.EDITOR
    excerpt.full_clean()
    excerpt.save()


# PROTECT: deleting a record that published content hangs from is refused and loses nothing.


def assert_protected(record):
    counts = {model: model.objects.count() for model in (Organisation, Election, Mission, Document, Excerpt)}
    with pytest.raises(ProtectedError):
        record.delete()
    assert type(record).objects.filter(pk=record.pk).exists()
    assert counts == {model: model.objects.count() for model in counts}


def test_organisation_with_missions_is_protected(mission_factory):
    assert_protected(mission_factory().organisation)


def test_organisation_with_documents_is_protected(document_factory):
    assert_protected(document_factory().publisher)


def test_organisation_with_child_organisations_is_protected(organisation_factory):
    parent = organisation_factory()
    organisation_factory(parent=parent)
    assert_protected(parent)


def test_election_with_missions_is_protected(mission_factory):
    assert_protected(mission_factory().election)


def test_election_with_documents_is_protected(document_factory, election_factory):
    assert_protected(document_factory(election=election_factory()).election)


def test_mission_with_excerpts_is_protected(excerpt_factory):
    assert_protected(excerpt_factory().mission)


def test_document_with_excerpts_is_protected(excerpt_factory):
    assert_protected(excerpt_factory().document)


def test_deleting_the_verdict_excerpt_keeps_the_mission(excerpt_factory):
    excerpt = excerpt_factory()
    mission = excerpt.mission
    mission.verdict_excerpt = excerpt
    mission.save()
    excerpt.delete()
    mission.refresh_from_db()
    assert mission.verdict_excerpt is None


# Excerpt.is_characterisation: whose words the document carries.


def test_excerpt_in_the_missions_own_document_is_primary(excerpt_factory):
    excerpt = excerpt_factory()
    assert excerpt.is_characterisation is False
    assert excerpt.fidelity == ""


def test_excerpt_in_a_joint_partners_document_is_primary(mission_factory, organisation_factory, document_factory):
    partner = organisation_factory()
    mission = mission_factory()
    mission.joint_partners.add(partner)
    excerpt = Excerpt.objects.create(
        mission=mission, document=document_factory(publisher=partner), text="Calm.", stance=Excerpt.Stance.POSITIVE
    )
    assert excerpt.is_characterisation is False
    assert Excerpt.objects.primary().filter(pk=excerpt.pk).exists()


def test_excerpt_in_a_third_partys_document_is_a_characterisation(excerpt_factory, document_factory):
    excerpt = excerpt_factory(document=document_factory())
    excerpt.refresh_from_db()
    assert excerpt.is_characterisation is True
    assert Excerpt.objects.characterisations().filter(pk=excerpt.pk).exists()


def test_a_rated_characterisation_keeps_its_fidelity(excerpt_factory, document_factory):
    excerpt = excerpt_factory(document=document_factory(), fidelity=Excerpt.Fidelity.OVERSTATED)
    excerpt.refresh_from_db()
    assert excerpt.fidelity == Excerpt.Fidelity.OVERSTATED


def test_only_a_characterisation_has_a_fidelity_rating(excerpt_factory):
    excerpt = excerpt_factory()
    excerpt.fidelity = Excerpt.Fidelity.ACCURATE
    assert "fidelity" in messages(excerpt)


def is_characterisation(excerpt):
    excerpt.refresh_from_db()
    return excerpt.is_characterisation


def test_flag_follows_the_missions_joint_partners(excerpt_factory, document_factory):
    excerpt = excerpt_factory(document=document_factory())
    mission, publisher = excerpt.mission, excerpt.document.publisher
    assert is_characterisation(excerpt)

    mission.joint_partners.add(publisher)
    assert not is_characterisation(excerpt)
    mission.joint_partners.remove(publisher)
    assert is_characterisation(excerpt)
    mission.joint_partners.set([publisher])
    assert not is_characterisation(excerpt)
    mission.joint_partners.clear()
    assert is_characterisation(excerpt)


def test_flag_follows_joint_partners_changed_from_the_organisations_side(excerpt_factory, document_factory):
    excerpt = excerpt_factory(document=document_factory())
    mission, publisher = excerpt.mission, excerpt.document.publisher

    publisher.joint_missions.add(mission)
    assert not is_characterisation(excerpt)
    publisher.joint_missions.remove(mission)
    assert is_characterisation(excerpt)
    publisher.joint_missions.add(mission)
    assert not is_characterisation(excerpt)
    publisher.joint_missions.clear()
    assert is_characterisation(excerpt)


def test_flag_follows_the_documents_publisher(excerpt_factory, organisation_factory):
    excerpt = excerpt_factory()
    document = excerpt.document
    assert not is_characterisation(excerpt)

    document.publisher = organisation_factory()
    document.save()
    assert is_characterisation(excerpt)
    document.publisher = excerpt.mission.organisation
    document.save()
    assert not is_characterisation(excerpt)


def test_flag_follows_the_missions_organisation(excerpt_factory, organisation_factory):
    excerpt = excerpt_factory()
    mission = excerpt.mission
    mission.organisation = organisation_factory()
    mission.save()
    assert is_characterisation(excerpt)


def test_a_characterisation_that_becomes_primary_stays_valid(excerpt_factory, document_factory):
    excerpt = excerpt_factory(document=document_factory(), fidelity=Excerpt.Fidelity.ACCURATE)
    excerpt.mission.joint_partners.add(excerpt.document.publisher)
    excerpt.refresh_from_db()
    assert not excerpt.is_characterisation
    excerpt.full_clean()


# What the public may see.


def test_published_excerpts_need_a_published_document_and_mission(excerpt_factory, mission_factory):
    def set_status(record, status):
        record.status = status
        record.save()

    def published_excerpt(**fields):
        excerpt = excerpt_factory(status=PUBLISHED, **fields)
        set_status(excerpt.document, PUBLISHED)
        set_status(excerpt.mission, PUBLISHED)
        return excerpt

    visible = published_excerpt()
    own_draft = published_excerpt()
    set_status(Excerpt.objects.get(pk=own_draft.pk), Excerpt.Status.IN_REVIEW)
    draft_document = published_excerpt()
    set_status(draft_document.document, Document.Status.DRAFT)
    draft_mission = published_excerpt()
    set_status(draft_mission.mission, Mission.Status.IN_REVIEW)

    assert list(Excerpt.objects.published()) == [visible]
    assert Mission.objects.published().count() == 3
    assert Document.objects.published().count() == 3


def test_copies_follow_the_parents(excerpt_factory, election_factory, organisation_factory, document_factory):
    """The fields copied onto an excerpt for fast lists follow its mission, election and document."""
    excerpt = excerpt_factory(status=PUBLISHED)
    mission, document = excerpt.mission, excerpt.document
    mission.status = document.status = PUBLISHED
    mission.save()
    document.save()
    excerpt.refresh_from_db()
    assert excerpt.public and excerpt.organisation_id == mission.organisation_id
    assert excerpt.document_publisher_id == document.publisher_id
    mission.election.country = "AZ"
    mission.election.save()
    document.kind, document.provenance = Document.Kind.FINAL, Document.Provenance.MIRROR
    document.publisher = organisation_factory()
    document.save()
    excerpt.refresh_from_db()
    assert excerpt.document_publisher_id == document.publisher_id  # the document's save alone
    mission.organisation = organisation_factory()
    mission.save()
    excerpt.refresh_from_db()
    assert (excerpt.country, excerpt.document_kind, excerpt.provenance) == ("AZ", "final", "mirror")
    assert excerpt.document_publisher_id == document.publisher_id
    assert excerpt.organisation_id == mission.organisation_id and excerpt.election_id == mission.election_id
    assert excerpt.document_date == document.date and excerpt.election_date == mission.election.election_date
    mission.status = Mission.Status.DRAFT
    mission.save()
    excerpt.refresh_from_db()
    assert not excerpt.public
    # Moved to another document: its publisher's.
    other = document_factory(publisher=organisation_factory())
    excerpt.document = other
    excerpt.save()
    excerpt.refresh_from_db()
    assert excerpt.document_publisher_id == other.publisher_id


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_every_excerpt_s_publisher_a_range_at_a_time(
    excerpt_factory, organisation_factory, monkeypatch
):
    # Ids with gaps, ranges of two, copies missing or wrong (as the code before it may leave them).
    from importlib import import_module

    from django.core.management import call_command

    excerpts = [excerpt_factory() for _ in range(7)]
    for excerpt in excerpts[1::3]:
        excerpt.delete()
    kept = Excerpt.objects.order_by("pk")
    assert kept.count() == 5
    call_command("migrate", "observers", "0023", verbosity=0)
    monkeypatch.setattr(import_module("observers.migrations.0024_copy_document_publishers"), "RANGE", 2)
    Excerpt.objects.update(document_publisher=None)
    Excerpt.objects.filter(pk=kept[0].pk).update(document_publisher=organisation_factory())
    call_command("migrate", verbosity=0)
    assert [(e.document_publisher_id, e.document.publisher_id) for e in kept.select_related("document")] == [
        (e.document.publisher_id, e.document.publisher_id) for e in kept.select_related("document")
    ]
    assert not Excerpt.objects.filter(document_publisher=None).exists()


def test_a_mission_s_copy_of_its_election_day_follows_the_election(client, mission_factory, election_factory):
    """The public mission list reads its order from the mission's own copy of the election day."""
    first, second = election_factory(), election_factory()
    older = mission_factory(election=first, status=PUBLISHED)
    newer = mission_factory(election=second, status=PUBLISHED)
    assert (older.election_date, newer.election_date) == (first.election_date, second.election_date)

    def listed():
        body = client.get("/missions/").content.decode()
        return sorted([older, newer], key=lambda mission: body.index(f'href="/missions/{mission.pk}/"'))

    assert listed() == [newer, older]
    first.election_date = second.election_date + datetime.timedelta(days=30)
    first.save()
    older.refresh_from_db()
    assert older.election_date == first.election_date
    assert listed() == [older, newer]
    # Moved to another election, by a save of that field alone, it takes the other's day.
    newer.election = election_factory(election_date=first.election_date + datetime.timedelta(days=1))
    newer.save(update_fields=["election"])
    newer.refresh_from_db()
    assert newer.election_date == newer.election.election_date
    assert listed() == [newer, older]
    newer.election_id = second.pk
    newer.save(update_fields=["election_id"])
    newer.refresh_from_db()
    assert newer.election_date == second.election_date
    assert listed() == [older, newer]


def test_published_at_is_set_on_publishing_and_cleared_on_unpublishing(mission_factory):
    mission = mission_factory()
    assert mission.published_at is None
    mission.status = PUBLISHED
    mission.save()
    first_published = mission.published_at
    assert first_published is not None
    mission.save()
    assert mission.published_at == first_published
    mission.status = Mission.Status.DRAFT
    mission.save()
    assert mission.published_at is None
    assert not mission.is_published


def test_str(excerpt_factory, election_factory, topic_factory):
    election = election_factory(country="KZ", kind=Election.Kind.PRESIDENTIAL, chamber="", round=2)
    assert str(election).startswith("Kazakhstan presidential, ")
    assert str(election).endswith(", round 2")
    excerpt = excerpt_factory(text="x" * 100)
    assert str(excerpt) == f"“{'x' * 80}…”"
    assert str(excerpt.mission).startswith(f"{excerpt.mission.organisation.acronym} election observation mission, ")
    assert str(topic_factory(name="Voter lists (test)")) == "Voter lists (test)"


def test_the_excerpt_template_s_labels_are_the_choices_labels():
    # The excerpt partial reads these properties rather than get_…_display() (see Excerpt.stance_label).
    for stance in [*Excerpt.Stance.values, ""]:
        assert Excerpt(stance=stance).stance_label == Excerpt(stance=stance).get_stance_display()
    for fidelity in [*Excerpt.Fidelity.values, ""]:
        assert Excerpt(fidelity=fidelity).fidelity_label == Excerpt(fidelity=fidelity).get_fidelity_display()
    for status in [*Excerpt.TranslationStatus.values, ""]:
        excerpt = Excerpt(translation_status=status)
        assert excerpt.translation_status_label == excerpt.get_translation_status_display()


@pytest.mark.parametrize(
    ("name", "kwarg", "value"),
    [
        ("observers:excerpt_detail", "pk", 1),
        ("observers:mission_detail", "pk", 20_000),
        ("observers:document_detail", "pk", 2**40),
        ("observers:document_detail", "pk", "17"),
        ("observers:election_detail", "slug", "kz-2021-01-10-parliamentary"),
        ("observers:organisation_detail", "slug", "osce_odihr-2"),
    ],
)
def test_a_record_address_is_what_reverse_gives(name, kwarg, value):
    assert record_url(name, kwarg, value) == reverse(name, kwargs={kwarg: value})


@pytest.mark.parametrize(
    ("name", "kwarg", "value"),
    [
        ("observers:election_detail", "slug", "ünicode"),
        ("observers:election_detail", "slug", "a b"),
        ("observers:election_detail", "slug", "a/b"),
        ("observers:election_detail", "slug", ""),
        # An unsaved record's id, and what an id's converter refuses.
        ("observers:mission_detail", "pk", None),
        ("observers:mission_detail", "pk", -1),
        ("observers:document_detail", "pk", "abc"),
    ],
)
def test_an_address_for_a_value_that_is_not_plain_goes_through_reverse(name, kwarg, value):
    # reverse() refuses these: so does record_url, rather than write them in.
    with pytest.raises(NoReverseMatch):
        reverse(name, kwargs={kwarg: value})
    with pytest.raises(NoReverseMatch):
        record_url(name, kwarg, value)


def test_a_record_address_resolves_its_pattern_once():
    with mock.patch("observers.models.reverse", wraps=reverse) as reversing:
        urls = [record_url("observers:mission_detail", "pk", pk) for pk in (1, 2, 3)] + excerpt_urls([4, 5])
        once = reversing.call_count
        urls += [record_url("observers:mission_detail", "pk", 6), *excerpt_urls([7])]
    assert urls == [reverse("observers:mission_detail", kwargs={"pk": pk}) for pk in (1, 2, 3)] + [
        reverse("observers:excerpt_detail", kwargs={"pk": pk}) for pk in (4, 5)
    ] + [reverse("observers:mission_detail", kwargs={"pk": 6}), reverse("observers:excerpt_detail", kwargs={"pk": 7})]
    assert once <= 2  # at most once per pattern (none if this process has made them before)
    assert reversing.call_count == once


def test_a_record_address_follows_the_script_prefix():
    # As reverse() does: a site served under a path, or a request that sets its own prefix.
    record_url("observers:election_detail", "slug", "kz")  # the parts under the usual prefix
    set_script_prefix("/record/")
    try:
        assert record_url("observers:election_detail", "slug", "kz") == "/record/elections/kz/"
        assert excerpt_urls([3]) == [reverse("observers:excerpt_detail", kwargs={"pk": 3})] == ["/record/excerpts/3/"]
    finally:
        set_script_prefix("/")
    assert record_url("observers:election_detail", "slug", "kz") == "/elections/kz/"


def test_records_give_their_addresses_as_reverse_does():
    election = Election(slug="kz-2021-01-10-parliamentary")
    organisation = Organisation(slug="osce-odihr")
    assert election.get_absolute_url() == reverse("observers:election_detail", kwargs={"slug": election.slug})
    assert organisation.get_absolute_url() == reverse(
        "observers:organisation_detail", kwargs={"slug": organisation.slug}
    )
    assert Mission(pk=12).get_absolute_url() == reverse("observers:mission_detail", kwargs={"pk": 12})
    assert Document(pk=34).get_absolute_url() == reverse("observers:document_detail", kwargs={"pk": 34})
    assert Excerpt(pk=56).get_absolute_url() == reverse("observers:excerpt_detail", kwargs={"pk": 56})
