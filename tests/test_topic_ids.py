"""Each excerpt's copy of its topics' ids is kept by the database from the links, however they are
written, and whatever else writes the copy (observers.topic_ids)."""

from importlib import import_module
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from observers import search, signals, topic_ids
from observers.management.commands import delete_topic
from observers.models import Excerpt, Topic

Link = Excerpt.topics.through


def copy_of(excerpt):
    """The excerpt's copy as stored, as a set of ids (it is in no particular order)."""
    stored = Excerpt.objects.filter(pk=excerpt.pk).values_list("topic_ids", flat=True).get()
    return {int(pk) for pk in stored.split(",")} if stored else set()


def links_of(excerpt):
    return set(Link.objects.filter(excerpt=excerpt).values_list("topic_id", flat=True))


def test_the_copy_follows_the_orm_s_adds_removes_sets_and_clears(excerpt_factory, topic_factory):
    excerpt = excerpt_factory()
    first, second, third = topic_factory(), topic_factory(), topic_factory()
    assert copy_of(excerpt) == set()
    excerpt.topics.add(first, second)
    assert copy_of(excerpt) == {first.pk, second.pk}
    excerpt.topics.remove(first)
    assert copy_of(excerpt) == {second.pk}
    excerpt.topics.set([first, third])
    assert copy_of(excerpt) == {first.pk, third.pk}
    excerpt.topics.clear()
    assert copy_of(excerpt) == set()


def test_links_written_without_the_orm_s_signals_are_copied(excerpt_factory, topic_factory):
    excerpt, other = excerpt_factory(), excerpt_factory()
    topic, another = topic_factory(), topic_factory()
    Link.objects.bulk_create([Link(excerpt=excerpt, topic=topic), Link(excerpt=other, topic=topic)])
    assert copy_of(excerpt) == copy_of(other) == {topic.pk}
    Link.objects.filter(excerpt=excerpt, topic=topic).update(topic=another)
    assert copy_of(excerpt) == {another.pk}
    Link.objects.filter(excerpt=other).update(excerpt=excerpt)  # a link moved to another excerpt
    assert copy_of(excerpt) == {topic.pk, another.pk} and copy_of(other) == set()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM observers_excerpt_topics WHERE topic_id = %s", [another.pk])
    assert copy_of(excerpt) == {topic.pk}


def test_deleting_a_topic_removes_it_from_every_copy(excerpt_factory, topic_factory):
    kept, gone = topic_factory(), topic_factory()
    excerpts = [excerpt_factory() for _ in range(3)]
    for excerpt in excerpts:
        excerpt.topics.add(kept, gone)
    gone.delete()
    assert all(copy_of(excerpt) == {kept.pk} for excerpt in excerpts)


def test_a_save_of_an_excerpt_read_before_its_topics_changed_keeps_the_new_ones(excerpt_factory, topic_factory):
    excerpt = excerpt_factory()
    old, new = topic_factory(), topic_factory()
    excerpt.topics.add(old)
    stale = Excerpt.objects.get(pk=excerpt.pk)
    assert stale.topic_ids == str(old.pk)
    excerpt.topics.set([new])
    stale.text = "Edited while someone else changed its topics."
    stale.save()
    assert copy_of(excerpt) == {new.pk}
    # Whatever writes the column directly is corrected too.
    Excerpt.objects.filter(pk=excerpt.pk).update(topic_ids="999,1000")
    assert copy_of(excerpt) == {new.pk}


def test_an_excerpt_written_with_another_s_copy_gets_its_own(excerpt_factory, topic_factory):
    excerpt = excerpt_factory()
    excerpt.topics.add(topic_factory())
    copied = Excerpt.objects.get(pk=excerpt.pk)
    assert copied.topic_ids != ""
    copied.pk = copied.sort_key = None
    copied.save()
    assert links_of(copied) == copy_of(copied) == set()


def test_every_copy_matches_its_links_in_the_synthetic_record(db):
    call_command("generate_synthetic", excerpts=2000, verbosity=0)
    excerpts = Excerpt.objects.filter(document__publisher__slug__startswith="synthetic-")
    assert Topic.objects.exists() and excerpts.count() == 2000
    links = {}
    for excerpt_id, topic_id in Link.objects.filter(excerpt__in=excerpts).values_list("excerpt_id", "topic_id"):
        links.setdefault(excerpt_id, set()).add(topic_id)
    copies = dict(excerpts.values_list("pk", "topic_ids"))
    assert sum(1 for ids in copies.values() if ids) > 1000
    assert all({int(pk) for pk in ids.split(",")} == links[pk] for pk, ids in copies.items() if ids)
    assert all(not copies[pk] for pk in copies if pk not in links)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables to alter them")
@pytest.mark.django_db(transaction=True)
def test_a_migration_that_rebuilds_the_excerpts_table_runs_and_the_copy_is_kept_after(excerpt_factory, topic_factory):
    # SQLite refuses to rebuild a table that another table's trigger names: the link table's triggers
    # are dropped before migrations run, and installed again after, with the copies made right.
    excerpt = excerpt_factory()
    topic = topic_factory()
    topic_ids.before_migrations(plan=[("a migration", False)])
    with connection.schema_editor() as editor:
        editor._remake_table(Excerpt)  # what altering one of its fields does on SQLite
    Link.objects.create(excerpt=excerpt, topic=topic)  # while the triggers are away
    topic_ids.after_migrations(plan=[("a migration", False)])
    search.ensure_installed()  # the rebuild dropped the full-text triggers too
    assert copy_of(excerpt) == {topic.pk}
    excerpt.topics.clear()
    assert copy_of(excerpt) == set()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables to alter them")
@pytest.mark.django_db(transaction=True)
def test_migrations_after_the_one_that_adds_the_copy_can_rebuild_both_tables(
    excerpt_factory, topic_factory, monkeypatch
):
    # Migrating from before the copy, with later migrations in the same run that rebuild the excerpts'
    # table and the link table: no trigger may name either while they run.
    excerpt, topic = excerpt_factory(), topic_factory()
    excerpt.topics.add(topic)
    call_command("migrate", "observers", "0014", verbosity=0)
    operation = import_module("observers.migrations.0015_excerpt_topic_ids").Migration.operations[0]
    add_column = operation.database_operations[0]
    adds_only = add_column.code

    # The tables as a later migration sees them: with the copy, and the indexes of their time (the
    # current models' would hold indexes that migrations after it add).
    state = MigrationLoader(connection).project_state(("observers", "0015_excerpt_topic_ids")).apps
    then = state.get_model("observers", "Excerpt")

    def and_later_migrations_rebuild_the_tables(apps, schema_editor):
        adds_only(apps, schema_editor)
        schema_editor._remake_table(then)
        schema_editor._remake_table(then._meta.get_field("topics").remote_field.through)

    monkeypatch.setattr(add_column, "code", and_later_migrations_rebuild_the_tables)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        assert topic_ids.installed(cursor, connection.vendor)
    assert copy_of(excerpt) == {topic.pk}
    excerpt.topics.clear()
    assert copy_of(excerpt) == set()


def trigger_ids():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT oid FROM pg_trigger WHERE tgname LIKE 'observers_topic_ids%%'")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'observers_topic_ids%%'")
        return sorted(row[0] for row in cursor.fetchall())


def test_migrating_with_nothing_to_apply_leaves_the_triggers_as_they_are(excerpt_factory, topic_factory):
    # Made again, they would wait on PostgreSQL for every open read of the tables, and hold up the rest.
    before = trigger_ids()
    assert before
    call_command("migrate", verbosity=0)
    assert trigger_ids() == before
    excerpt = excerpt_factory()
    topic = topic_factory()
    excerpt.topics.add(topic)
    assert copy_of(excerpt) == {topic.pk}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # TRUNCATE waits for no deferred check of this transaction's
def test_truncating_the_links_empties_every_copy(excerpt_factory, topic_factory):
    excerpt = excerpt_factory()
    excerpt.topics.add(topic_factory())
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE observers_excerpt_topics")
    assert copy_of(excerpt) == set()


def test_a_topic_on_many_excerpts_is_deleted_a_batch_at_a_time(excerpt_factory, topic_factory, monkeypatch):
    deleted, kept = topic_factory(), topic_factory()
    excerpts = [excerpt_factory() for _ in range(7)]
    for excerpt in excerpts:
        excerpt.topics.add(deleted, kept)
    versions = []  # each batch retires what the cache holds, as its removed links send no signal

    def record_changed(**kwargs):
        signals.record_changed(**kwargs)
        versions.append(signals.record_version())

    monkeypatch.setattr(delete_topic, "record_changed", record_changed)
    out = StringIO()
    call_command("delete_topic", deleted.slug, batch=3, stdout=out)
    assert len(set(versions)) == 3
    assert out.getvalue().splitlines() == [
        f"{deleted.name}: removed from 3 of 7 excerpts",
        f"{deleted.name}: removed from 6 of 7 excerpts",
        f"{deleted.name}: removed from 7 of 7 excerpts",
        f"Deleted the topic {deleted.name} ({deleted.slug}).",
    ]
    assert not Topic.objects.filter(pk=deleted.pk).exists()
    assert [copy_of(excerpt) for excerpt in excerpts] == [{kept.pk}] * 7
    assert [links_of(excerpt) for excerpt in excerpts] == [{kept.pk}] * 7


def test_deleting_an_unknown_topic_deletes_nothing(topic_factory):
    topic = topic_factory()
    with pytest.raises(CommandError, match="No topic with the slug no-such-topic; nothing deleted"):
        call_command("delete_topic", topic.slug, "no-such-topic")
    assert Topic.objects.filter(pk=topic.pk).exists()
