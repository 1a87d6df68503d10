"""backup_record and restore_record: the whole record, history included, survives a round trip exactly."""

import datetime
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from observers import search
from observers.backup import record_models
from observers.models import Excerpt, Mission, Organisation, Topic

from .conftest import make_document, make_election, make_excerpt, make_mission, make_organisation


def build_record():
    """Accounts, groups, records in every model with many-to-many links, and history by named editors."""
    chief = User.objects.create_superuser("chief", "chief@example.org", "x")
    editor = User.objects.create_user("editor", "editor@example.org", "y", first_name="Aigerim")
    editor.groups.add(Group.objects.get(name="Editor"))
    editor.user_permissions.add(Permission.objects.get(codename="publish_excerpt"))

    odihr = make_organisation(name="Office for Democratic Institutions and Human Rights", acronym="ODIHR")
    partner = make_organisation(name="OSCE Parliamentary Assembly", acronym="OSCE PA", parent=odihr)
    ministry = make_organisation(name="Министерство иностранных дел", kind=Organisation.Kind.GOVERNMENT)
    election = make_election(chamber="Mazhilis", notes="Early elections, 20 March.")
    mission = make_mission(organisation=odihr, election=election, status=Mission.Status.PUBLISHED)
    mission.joint_partners.add(partner)
    report = make_document(publisher=odihr, election=election, status="published")
    report.missions.add(mission)
    op_ed = make_document(publisher=ministry, kind="op_ed", status="published", language="ru")
    topic = Topic.objects.get(slug="voting")
    primary = make_excerpt(mission=mission, document=report, status="published", text="Considerable way to go")
    primary.topics.add(topic, Topic.objects.get(slug="counting-and-tabulation"))
    claim = make_excerpt(
        mission=mission,
        document=op_ed,
        text="ОБСЕ ясно заявила, что выборы были хорошо организованы",
        language="ru",
        translation="The OSCE was clear that the election was well organised",
        translation_status="unofficial",
        fidelity="selective",
        fidelity_note="Leaves out the conclusion.",
        stance="positive",
    )
    claim.primary_excerpts.add(primary)
    claim._history_user = editor
    claim._change_reason = "Rated"
    claim.transition("publish", chief)
    mission.verdict, mission.verdict_excerpt = Mission.Verdict.CRITICAL, primary
    mission._history_user = chief
    mission.save()
    make_excerpt(text="A passage deleted later").delete()
    Topic.objects.create(name="Observer security", slug="observer-security")
    LogEntry.objects.create(
        user=chief,
        content_type=ContentType.objects.get_for_model(Excerpt),
        object_id=str(claim.pk),
        object_repr=str(claim),
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Fidelity"]}}]',
    )
    return claim


def snapshot():
    """Every row of every backed-up table, with content types and permissions by their natural keys
    (a new database numbers its own) and automatic many-to-many rows without their ids."""
    models = set(record_models())
    for model in list(models):
        models.update(field.remote_field.through for field in model._meta.local_many_to_many)
    tables = {}
    for model in models:
        rows = []
        for obj in model._base_manager.all():
            row = {}
            for field in model._meta.concrete_fields:
                if model._meta.auto_created and field.primary_key:
                    continue
                value = getattr(obj, field.attname)
                if field.is_relation and field.related_model in (ContentType, Permission) and value is not None:
                    value = getattr(obj, field.name).natural_key()
                row[field.attname] = value
            rows.append(row)
        tables[model._meta.label] = sorted(rows, key=repr)
    return tables


def new_empty_database():
    """What `migrate` leaves in a new database: content types, permissions, the seeded topics and roles."""
    if connection.vendor == "postgresql":
        # The test's transaction has pending foreign-key checks, and TRUNCATE refuses to run with those.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)  # post_migrate recreates types and permissions
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    ContentType.objects.clear_cache()
    migration = __import__("observers.migrations.0002_topics", fromlist=["TOPICS"])
    Topic.objects.bulk_create(Topic(slug=slug, name=name, description=text) for slug, name, text in migration.TOPICS)
    for name in ["Publisher", "Editor"]:
        Group.objects.create(name=name).permissions.add(Permission.objects.get(codename="view_excerpt"))


@pytest.fixture
def fresh_content_types():
    yield
    # The flushed database is rolled back after the test: so must the cached content type ids.
    ContentType.objects.clear_cache()


@pytest.mark.parametrize("name", ["record.json", "record.json.gz"])
def test_round_trip_is_exact_history_included(db, fresh_content_types, tmp_path, name):
    claim = build_record()
    before = snapshot()
    assert len(before["observers.HistoricalExcerpt"]) >= 5 and before["admin.LogEntry"]
    assert any(row["history_user_id"] for row in before["observers.HistoricalExcerpt"])
    path = tmp_path / name

    call_command("backup_record", str(path))
    new_empty_database()
    assert snapshot() != before
    call_command("restore_record", str(path))

    after = snapshot()
    assert after.keys() == before.keys()
    for label in before:
        assert after[label] == before[label], label
    # The search index is rebuilt, and new rows get new ids (PostgreSQL's sequences were moved on).
    assert list(search.matching(Excerpt.objects.all(), "ясно заявила")) == [claim]
    extra = make_excerpt(mission=claim.mission, document=claim.document)
    assert extra.pk > claim.pk
    assert extra.history.count() == 1
    assert User.objects.create_user("newcomer").pk > User.objects.get(username="editor").pk


def test_restore_refuses_a_database_that_is_not_empty(db, tmp_path):
    build_record()
    path = tmp_path / "record.json"
    call_command("backup_record", str(path))
    before = snapshot()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore_record", str(path))
    assert snapshot() == before


@pytest.mark.parametrize(
    "model, field, copied",
    [(Mission, "election_date", lambda mission: mission.election_date == mission.election.election_date),
     (Excerpt, "document_publisher", lambda excerpt: excerpt.document_publisher_id == excerpt.document.publisher_id)],
)  # fmt: skip
def test_a_backup_made_before_a_copy_existed_restores_with_the_copy(
    db, fresh_content_types, tmp_path, model, field, copied
):
    # A mission's copy of its election's day, an excerpt's of its document's publisher.
    build_record()
    path = tmp_path / "record.json"
    call_command("backup_record", str(path))
    objects = json.loads(path.read_text())
    name = model._meta.model_name
    items = [item for item in objects if item["model"] in (f"observers.{name}", f"observers.historical{name}")]
    assert items
    for item in items:
        del item["fields"][field]
    path.write_text(json.dumps(objects))
    new_empty_database()
    call_command("restore_record", str(path))
    restored = list(model.objects.all())
    assert len(restored) == len({item["pk"] for item in items if item["model"] == f"observers.{name}"})
    assert all(copied(row) for row in restored)


def test_backup_needs_a_json_file_name(db, tmp_path):
    with pytest.raises(CommandError, match=r"\.json"):
        call_command("backup_record", str(tmp_path / "record.txt"))


def test_backup_keeps_microseconds(db, tmp_path):
    organisation = make_organisation()
    moment = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC)
    Organisation.objects.filter(pk=organisation.pk).update(updated_at=moment)
    path = tmp_path / "record.json"
    call_command("backup_record", str(path))
    assert "2024-05-06T07:08:09.123456+00:00" in path.read_text()


def test_every_model_of_the_record_is_backed_up():
    labels = {model._meta.label for model in record_models()}
    observers = {model._meta.label for model in apps.get_app_config("observers").get_models() if model._meta.managed}
    assert observers <= labels
    assert "observers.SearchEntry" not in labels  # the full-text index is rebuilt, not restored
    assert {"observers.HistoricalExcerpt", "auth.User", "auth.Group", "admin.LogEntry"} <= labels
