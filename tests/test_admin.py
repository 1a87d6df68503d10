import datetime
import re
import warnings
from collections import Counter
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.core.paginator import UnorderedObjectListWarning
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from observers import admin as observers_admin
from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic

pytestmark = pytest.mark.django_db

PROTECTED_TEXT = "would require deleting the following protected related objects"


def admin_url(model, view, *args):
    return reverse(f"admin:observers_{model._meta.model_name}_{view}", args=args)


# How each model's admin pages grow: grow(record, n) adds n rows to the changelist and, where the
# change page lists children or related records (inlines, autocomplete selections), n to those too.


def make_record(model, f):
    if model is Organisation:
        return f.organisation()
    if model is Topic:
        return f.topic()
    if model is Election:
        return f.election()
    if model is Mission:
        return f.mission()
    if model is Document:
        return f.document()
    return f.excerpt(document=f.document())


def grow(record, n, f):
    model = type(record)
    for _ in range(n):
        if model is Organisation:
            f.mission(organisation=f.organisation(parent=record))
        elif model is Topic:
            f.excerpt().topics.add(record, f.topic())
        elif model is Election:
            f.mission(election=record)
            f.election()
        elif model is Mission:
            record.joint_partners.add(f.organisation())
            f.mission()
        elif model is Document:
            excerpt = f.excerpt(document=record)
            record.missions.add(excerpt.mission)
            f.document()
        elif model is Excerpt:
            primary = f.excerpt(mission=record.mission)
            record.primary_excerpts.add(primary)
            record.topics.add(f.topic())


@pytest.fixture
def f(organisation_factory, topic_factory, election_factory, mission_factory, document_factory, excerpt_factory):
    """All the factories under short names: f.mission(), f.excerpt(document=f.document()) …"""
    return SimpleNamespace(
        organisation=organisation_factory,
        topic=topic_factory,
        election=election_factory,
        mission=mission_factory,
        document=document_factory,
        excerpt=excerpt_factory,
    )


def queries_for(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in context.captured_queries]


def assert_same_queries(client, url, grow_by):
    """The page runs as many queries with 50 rows as with 5: no query per row."""
    client.get(url)  # fills per-process caches (content types, …) that the first request builds
    few = queries_for(client, url)
    grow_by(45)
    client.get(url)  # and what is cached until the record changes (the topics' counts)
    many = queries_for(client, url)
    shapes = Counter(re.sub(r"\b\d+\b", "N", sql) for sql in many)
    repeated = [f"{times} × {shape}" for shape, times in shapes.items() if times > 1]
    assert len(many) == len(few), f"{len(few)} queries with 5 rows, {len(many)} with 50; repeated: {repeated}"
    return len(few)


MODELS = [Organisation, Topic, Election, Mission, Document, Excerpt]


def test_every_registered_admin_is_covered():
    assert {model for model in admin.site._registry if model._meta.app_label == "observers"} == set(MODELS)


@pytest.mark.parametrize("view", ["changelist", "add", "change"])
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_admin_page_renders_with_a_fixed_number_of_queries(superuser_client, f, model, view):
    record = make_record(model, f)
    grow(record, 5, f)
    url = admin_url(model, view, record.pk) if view == "change" else admin_url(model, view)
    assert_same_queries(superuser_client, url, lambda n: grow(record, n, f))


def autocomplete_fields():
    """(model, field) for every autocomplete field in the observers admin, its inlines included."""
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "observers":
            continue
        for name in model_admin.autocomplete_fields:
            yield pytest.param(model, name, id=f"{model.__name__}.{name}")
        for inline in model_admin.inlines:
            for name in inline.autocomplete_fields:
                yield pytest.param(inline.model, name, id=f"{model.__name__}-inline-{inline.model.__name__}.{name}")


@pytest.mark.parametrize(("model", "field_name"), list(autocomplete_fields()))
def test_autocomplete_runs_a_fixed_number_of_queries(superuser_client, f, model, field_name):
    remote = model._meta.get_field(field_name).related_model
    query = f"?app_label=observers&model_name={model._meta.model_name}&field_name={field_name}&term="
    url = reverse("admin:autocomplete") + query

    def add(n):
        for _ in range(n):
            make_record(remote, f)

    add(5)
    with warnings.catch_warnings():
        # Unordered results would page inconsistently as editors scroll the list.
        warnings.simplefilter("error", UnorderedObjectListWarning)
        assert_same_queries(superuser_client, url, add)
    assert superuser_client.get(url).json()["results"]


def test_autocomplete_lists_organisations_by_name(superuser_client, f):
    for name in ["Zeta Watch", "Alpha Monitors", "Mu Observers"]:
        f.organisation(name=name)
    query = "?app_label=observers&model_name=mission&field_name=organisation&term="
    results = superuser_client.get(reverse("admin:autocomplete") + query).json()["results"]
    names = [Organisation.objects.get(pk=result["id"]).name for result in results]
    assert names == sorted(names)
    assert {"Zeta Watch", "Alpha Monitors", "Mu Observers"} <= set(names)


def test_the_changelists_show_the_rows(superuser_client, f):
    for model in MODELS:
        record = make_record(model, f)
        response = superuser_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200
        assert admin_url(model, "change", record.pk) in response.content.decode()


def test_the_topics_list_counts_each_topic_s_excerpts_and_counts_again_after_a_change(superuser_client, f):
    topic, unused = f.topic(name="Voter lists"), f.topic(name="Unused topic")
    for _ in range(3):
        f.excerpt().topics.add(topic)

    def counts():
        changelist = superuser_client.get(admin_url(Topic, "changelist")).context["cl"]
        shown = {row.name: changelist.model_admin.excerpt_count(row) for row in changelist.result_list}
        return shown["Voter lists"], shown["Unused topic"]

    assert counts() == (3, 0)
    f.excerpt().topics.add(unused)
    assert counts() == (3, 1)


def search_and_filter_cases(f):
    """(model, query string, a record it must list, a record it must not list) for each admin."""
    wanted = f.organisation(name="Parliamentary Assembly of Somewhere", acronym="PAS", endorsed_declaration=True)
    other = f.organisation(name="Unrelated Group", kind=Organisation.Kind.NEWS)
    yield Organisation, "?q=somewhere", wanted, other
    yield Organisation, "?endorsed_declaration__exact=1", wanted, other
    yield Organisation, f"?kind__exact={Organisation.Kind.NEWS}", other, wanted

    wanted, other = f.topic(name="Zebra crossings"), f.topic(name="Yak herding")
    yield Topic, "?q=zebra", wanted, other

    wanted = f.election(chamber="Mazhilis", kind=Election.Kind.PARLIAMENTARY, is_early=True)
    other = f.election(chamber="Senate", kind=Election.Kind.PRESIDENTIAL)
    yield Election, "?q=mazhilis", wanted, other
    yield Election, "?is_early__exact=1", wanted, other
    yield Election, f"?kind__exact={Election.Kind.PRESIDENTIAL}", other, wanted

    wanted = f.mission(head="Ambassador Quillfeather", status=Mission.Status.PUBLISHED)
    other = f.mission(head="Someone Else", mission_type=Mission.Type.EXPERT_TEAM)
    yield Mission, "?q=quillfeather", wanted, other
    yield Mission, f"?status__exact={Mission.Status.PUBLISHED}", wanted, other
    yield Mission, f"?mission_type__exact={Mission.Type.EXPERT_TEAM}", other, wanted

    wanted = f.document(title="Final report on the Zanzibar vote", kind=Document.Kind.FINAL)
    other = f.document(title="Press release of another body", kind=Document.Kind.PRESS_RELEASE)
    yield Document, "?q=zanzibar", wanted, other
    yield Document, f"?kind__exact={Document.Kind.FINAL}", wanted, other
    yield Document, f"?publisher__id__exact={other.publisher_id}", other, wanted

    wanted = f.excerpt(text="Voting was orderly but the count lacked transparency.", stance=Excerpt.Stance.MIXED)
    other = f.excerpt(text="Fundamental freedoms were respected.", document=f.document())
    topic = f.topic()
    wanted.topics.add(topic)
    yield Excerpt, "?q=transparency", wanted, other
    yield Excerpt, f"?stance__exact={Excerpt.Stance.MIXED}", wanted, other
    yield Excerpt, "?is_characterisation__exact=1", other, wanted
    yield Excerpt, f"?topics__id__exact={topic.pk}", wanted, other
    final = f.excerpt(document=f.document(kind=Document.Kind.FINAL))
    yield Excerpt, f"?document_kind={Document.Kind.FINAL}", final, wanted
    yield Excerpt, f"?document__id__exact={final.document_id}", final, wanted  # an inline's “all of them” link

    old = f.document(date=datetime.date(2011, 5, 1))
    yield Document, "?year=2011", old, wanted.document
    old_election = f.election(election_date=datetime.date(1999, 3, 1))
    yield Mission, "?year=1999", f.mission(election=old_election), wanted.mission


def test_changelist_search_and_filters(superuser_client, f):
    cases = list(search_and_filter_cases(f))
    assert {case[0] for case in cases} == set(MODELS)
    for model, query, listed, unlisted in cases:
        response = superuser_client.get(admin_url(model, "changelist") + query)
        assert response.status_code == 200, query
        assert "errornote" not in response.content.decode(), query
        assert response.context["cl"].result_count >= 1, query
        results = set(response.context["cl"].result_list)
        assert listed in results, f"{model.__name__}{query}"
        assert unlisted not in results, f"{model.__name__}{query}"


def test_changelist_search_and_filter_queries_do_not_grow(superuser_client, f):
    url = admin_url(Excerpt, "changelist") + f"?q=well&stance__exact={Excerpt.Stance.POSITIVE}"

    def add(n):
        for _ in range(n):
            f.excerpt(document=f.document())

    add(5)
    assert_same_queries(superuser_client, url, add)


# A million excerpts: what keeps the lists fast, seen from the editor's side.


def test_a_filtered_list_counts_up_to_a_bound(superuser_client, f, monkeypatch):
    monkeypatch.setattr(observers_admin, "COUNT_LIMIT", 3)
    for _ in range(5):
        f.excerpt(stance=Excerpt.Stance.MIXED)
    url = admin_url(Excerpt, "changelist")

    response = superuser_client.get(url + f"?stance__exact={Excerpt.Stance.MIXED}")
    assert response.context["cl"].paginator.more_than == 3
    html = response.content.decode()
    assert "more than 3 excerpts" in html
    assert "more than 3 results" in html

    response = superuser_client.get(url + "?q=administered")
    assert "more than 3 results" in response.content.decode()

    # The whole table is counted exactly: without a filter, the count reads no row.
    response = superuser_client.get(url)
    assert response.context["cl"].paginator.more_than is None
    assert response.context["cl"].result_count == 5


def test_excerpt_search_reads_the_text_the_title_and_the_acronym(superuser_client, f):
    odihr = f.mission(organisation=f.organisation(acronym="ODIHR"))
    by_acronym = f.excerpt(mission=odihr, text="Counting was orderly.")
    by_title = f.excerpt(document=f.document(title="Final report on the Zanzibar vote"), text="Turnout was high.")
    by_text = f.excerpt(text="Observers noted orderly queues and transparent counting.")
    url = admin_url(Excerpt, "changelist")

    def listed(query):
        response = superuser_client.get(url, {"q": query})
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed("odihr") == {by_acronym}
    assert listed("zanzibar") == {by_title}
    assert listed("orderly") == {by_acronym, by_text}
    assert listed("odihr orderly") == {by_acronym}  # every word, each where it is found
    assert listed("queues counting") == {by_text}
    assert listed("queue") == set()  # the text is searched by whole words, through the index
    assert listed("?!") == set()


def test_the_excerpt_list_is_newest_first_and_its_columns_do_not_sort(superuser_client, f):
    excerpts = [f.excerpt(text=f"Voting was calm ({n}).") for n in range(3)]
    url = admin_url(Excerpt, "changelist")
    response = superuser_client.get(url)
    assert list(response.context["cl"].result_list) == excerpts[::-1]
    # A search lists in the record's order: the newest document first.
    excerpts[0].document.date = datetime.date(2030, 1, 1)
    excerpts[0].document.save()
    Excerpt.sync_copies(Excerpt.objects.all())
    response = superuser_client.get(url + "?q=calm&o=3")
    assert list(response.context["cl"].result_list) == [excerpts[0], excerpts[2], excerpts[1]]
    assert "sortable" not in response.content.decode()


def test_facets_are_counted_on_request_for_elections_and_never_for_the_large_tables(superuser_client, f):
    f.excerpt()
    url = admin_url(Election, "changelist")
    assert not superuser_client.get(url).context["cl"].add_facets
    assert superuser_client.get(url + "?_facets=True").context["cl"].add_facets
    for model in (Mission, Document, Excerpt):
        response = superuser_client.get(admin_url(model, "changelist") + "?_facets=True")
        assert response.status_code == 200
        assert not response.context["cl"].add_facets


def test_a_long_inline_lists_the_first_children_and_links_to_all(superuser_client, f, monkeypatch):
    monkeypatch.setattr(observers_admin.ExcerptInline, "max_listed", 2)
    document = f.document()
    excerpts = [f.excerpt(document=document) for _ in range(3)]
    response = superuser_client.get(admin_url(Document, "change", document.pk))
    html = response.content.decode()
    assert "Only the first 2 excerpts are listed here" in html
    all_of_them = admin_url(Excerpt, "changelist") + f"?document__id__exact={document.pk}"
    assert all_of_them in html
    assert set(superuser_client.get(all_of_them).context["cl"].result_list) == set(excerpts)

    monkeypatch.setattr(observers_admin.ExcerptInline, "max_listed", 3)
    response = superuser_client.get(admin_url(Document, "change", document.pk))
    assert "Only the first" not in response.content.decode()


def test_an_invalid_year_or_topic_is_refused_like_any_invalid_filter(superuser_client, f):
    f.excerpt().topics.add(f.topic())
    for model, query in [(Document, "?year=x"), (Mission, "?year=x"), (Excerpt, "?topics__id__exact=x")]:
        response = superuser_client.get(admin_url(model, "changelist") + query)
        assert response.status_code == 302
        assert response.url.endswith("?e=1")


# Deleting a record that others depend on: Django's protected-objects page, and nothing deleted.


@pytest.mark.parametrize(
    "protected",
    [
        pytest.param(lambda f: f.mission().organisation, id="organisation-with-missions"),
        pytest.param(lambda f: f.mission().election, id="election-with-missions"),
        pytest.param(lambda f: f.excerpt().mission, id="mission-with-excerpts"),
        pytest.param(lambda f: f.excerpt().document, id="document-with-excerpts"),
    ],
)
def test_admin_refuses_to_delete_a_protected_record(superuser_client, f, protected):
    record = protected(f)
    model = type(record)
    url = admin_url(model, "delete", record.pk)
    counts = {m: m.objects.count() for m in MODELS}

    response = superuser_client.get(url)
    assert response.status_code == 200
    assert PROTECTED_TEXT in response.content.decode()

    response = superuser_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert PROTECTED_TEXT in response.content.decode()
    assert model.objects.filter(pk=record.pk).exists()
    assert counts == {m: m.objects.count() for m in MODELS}


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_a_deletion_page_runs_a_fixed_number_of_queries(superuser_client, f, model, monkeypatch):
    # Beyond a few of each kind, what a deletion would take with it (or what stops it) is counted,
    # not read: the page for an organisation with 150,000 excerpts took 43 s when it read them all.
    monkeypatch.setattr(observers_admin, "DELETION_LISTED", 3)
    record = make_record(model, f)
    grow(record, 4, f)  # beyond the listed already, each relation's count is run
    assert_same_queries(superuser_client, admin_url(model, "delete", record.pk), lambda n: grow(record, n, f))


def test_a_deletion_page_names_a_few_of_what_stops_it_and_counts_the_others(superuser_client, f, monkeypatch):
    monkeypatch.setattr(observers_admin, "DELETION_LISTED", 3)
    organisation = f.organisation()
    missions = [f.mission(organisation=organisation) for _ in range(5)]
    url = admin_url(Organisation, "delete", organisation.pk)
    for response in (superuser_client.get(url), superuser_client.post(url, {"post": "yes"})):
        page = response.content.decode()
        assert PROTECTED_TEXT in page
        assert page.count("Mission: <a href=") == 3
        assert "… and 2 more missions, not listed" in page
    assert Mission.objects.filter(pk__in=[m.pk for m in missions]).count() == 5


def test_a_deletion_page_does_not_count_what_would_only_be_unlinked(superuser_client, f, monkeypatch):
    # Missions whose verdict is the excerpt keep going, without it (SET_NULL): not deleted, not listed.
    monkeypatch.setattr(observers_admin, "DELETION_LISTED", 1)
    excerpt = f.excerpt()
    missions = [f.mission() for _ in range(3)]
    Mission.objects.filter(pk__in=[m.pk for m in missions]).update(verdict_excerpt=excerpt)
    url = admin_url(Excerpt, "delete", excerpt.pk)
    page = superuser_client.get(url).content.decode()
    assert "more missions" not in page and "Missions:" not in page
    assert superuser_client.post(url, {"post": "yes"}).status_code == 302
    assert Mission.objects.filter(pk__in=[m.pk for m in missions], verdict_excerpt=None).count() == 3


def test_a_topic_on_many_excerpts_is_deleted_with_a_few_of_its_links_listed(superuser_client, f, monkeypatch):
    monkeypatch.setattr(observers_admin, "DELETION_LISTED", 3)
    topic, kept = f.topic(), f.topic()
    excerpts = [f.excerpt() for _ in range(8)]
    for excerpt in excerpts:
        excerpt.topics.add(topic, kept)
    url = admin_url(Topic, "delete", topic.pk)
    page = superuser_client.get(url).content.decode()
    assert page.count("Excerpt-topic relationship: ") == 3
    assert "… and 5 more excerpt-topic relationships, not listed" in page
    assert re.search(r"Excerpt-topic relationships: 8\b", page)  # the summary counts them all

    assert superuser_client.post(url, {"post": "yes"}).status_code == 302
    assert not Topic.objects.filter(pk=topic.pk).exists()
    assert {e.topic_ids for e in Excerpt.objects.filter(pk__in=[e.pk for e in excerpts])} == {str(kept.pk)}


def test_a_topic_on_more_excerpts_than_a_request_can_rewrite_is_left_to_the_command(superuser_client, f, monkeypatch):
    monkeypatch.setattr(observers_admin, "TOPIC_LINKS_DELETED_HERE", 3)
    topic = f.topic()
    for _ in range(4):
        f.excerpt().topics.add(topic)
    url = admin_url(Topic, "delete", topic.pk)
    for response in (superuser_client.get(url), superuser_client.post(url, {"post": "yes"})):
        assert response.status_code == 200
        assert "Links to 4 excerpts: too many to remove in one request" in response.content.decode()
        assert f"manage.py delete_topic {topic.slug}" in response.content.decode()
    assert Topic.objects.filter(pk=topic.pk).exists()
    assert Excerpt.topics.through.objects.filter(topic=topic).count() == 4


def test_addresses_typed_without_a_scheme_get_https(superuser_client):
    data = {"name": "Citizen Watch", "acronym": "CW", "slug": "cw", "kind": Organisation.Kind.CITIZEN_OBSERVERS}
    response = superuser_client.post(admin_url(Organisation, "add"), data | {"website": "watch.example.org"})
    assert response.status_code == 302
    assert Organisation.objects.get(slug="cw").website == "https://watch.example.org"


def test_admin_deletes_an_unprotected_record(superuser_client, f):
    organisation = f.organisation()
    response = superuser_client.post(admin_url(Organisation, "delete", organisation.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Organisation.objects.filter(pk=organisation.pk).exists()


# History.


def mission_form_data(mission, **changes):
    data = {
        "organisation": mission.organisation_id,
        "election": mission.election_id,
        "mission_type": mission.mission_type,
        "joint_partners": [partner.pk for partner in mission.joint_partners.all()],
        "head": mission.head,
        "core_team": "",
        "long_term_observers": "",
        "short_term_observers": "",
        "accredited_observers": "",
        "deployed_from": "",
        "deployed_to": "",
        "verdict": mission.verdict,
        "verdict_excerpt": mission.verdict_excerpt_id or "",
        "notes": mission.notes,
        "sources": mission.sources,
        "status": mission.status,
        "_save": "Save",
    }
    return data | changes


def test_editing_a_mission_in_the_admin_records_who_did_it(superuser_client, superuser, f):
    mission = f.mission()
    before = mission.history.count()

    data = mission_form_data(mission, head="Ambassador Quillfeather", core_team="12", deployed_from="2020-01-01")
    response = superuser_client.post(admin_url(Mission, "change", mission.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    mission.refresh_from_db()
    assert mission.head == "Ambassador Quillfeather"
    assert mission.core_team == 12
    assert mission.history.count() == before + 1
    latest = mission.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == superuser
    assert latest.head == "Ambassador Quillfeather"

    response = superuser_client.get(admin_url(Mission, "history", mission.pk))
    assert response.status_code == 200
    assert "Ambassador Quillfeather" in response.content.decode()
    assert superuser.username in response.content.decode()


def test_the_admin_form_refuses_a_deployment_that_ends_before_it_starts(superuser_client, f):
    mission = f.mission()
    data = mission_form_data(mission, deployed_from="2020-02-01", deployed_to="2020-01-01")
    response = superuser_client.post(admin_url(Mission, "change", mission.pk), data)
    assert response.status_code == 200
    assert "The deployment ends before it starts." in response.content.decode()
    mission.refresh_from_db()
    assert mission.deployed_from is None


def test_adding_a_joint_partner_in_the_admin_updates_characterisations(superuser_client, f):
    excerpt = f.excerpt(document=f.document())
    assert excerpt.is_characterisation
    mission = excerpt.mission

    data = mission_form_data(mission, joint_partners=[excerpt.document.publisher_id])
    response = superuser_client.post(admin_url(Mission, "change", mission.pk), data)
    assert response.status_code == 302

    excerpt.refresh_from_db()
    assert not excerpt.is_characterisation
    assert list(mission.history.first().joint_partners.values_list("organisation", flat=True)) == [
        excerpt.document.publisher_id
    ]


def test_history_pages_render(superuser_client, f):
    for record in (f.organisation(), f.topic(), f.election(), f.mission(), f.document(), f.excerpt()):
        response = superuser_client.get(admin_url(type(record), "history", record.pk))
        assert response.status_code == 200


def test_the_admin_needs_a_staff_login(client, f):
    mission = f.mission()
    response = client.get(admin_url(Mission, "change", mission.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# The editorial desk ------------------------------------------------------------------------------

DUPLICATES = "Likely duplicates (the same text in the same document)"
HIDDEN = "Published excerpts that are not public (their document or mission is not published)"
UNRATED = "Characterisations without a fidelity rating"
PUBLISHED = Excerpt.Status.PUBLISHED


def desk(client):
    """The desk's sections by title: (count, ids listed in order)."""
    response = client.get(reverse("editorial_desk"))
    assert response.status_code == 200
    return {
        section["title"]: (section["count"], [item.pk for item, _ in section["items"]])
        for section in response.context["sections"]
    }


def test_the_desk_lists_excerpts_with_the_same_text_in_the_same_document(superuser_client, f):
    document = f.document()
    first = f.excerpt(document=document, text="Voting was orderly.")
    f.excerpt(document=document, text="Counting was slow.")
    f.excerpt(document=document, text="Voting was orderly!")
    f.excerpt(document=f.document(), text="Voting was orderly.")
    second = f.excerpt(document=document, text="Voting was orderly.")

    assert desk(superuser_client)[DUPLICATES] == (2, [second.pk, first.pk])
    page = superuser_client.get(reverse("editorial_desk")).content.decode()
    assert f"{DUPLICATES} (2)" in page
    assert admin_url(Excerpt, "change", first.pk) in page


def test_an_edited_text_moves_the_duplicate_flag(superuser_client, f):
    document = f.document()
    first = f.excerpt(document=document, text="Voting was orderly.")
    assert not first.maybe_duplicate
    second = f.excerpt(document=document, text="Voting was orderly.")
    first.refresh_from_db()
    assert first.maybe_duplicate and second.maybe_duplicate

    # Corrected: the texts differ. The other one's flag stays until it is saved, and the desk sees past it.
    second.text = "Voting was orderly and calm."
    second.save()
    second.refresh_from_db()
    first.refresh_from_db()
    assert not second.maybe_duplicate and first.maybe_duplicate
    assert desk(superuser_client)[DUPLICATES] == (0, [])
    first.save()
    first.refresh_from_db()
    assert not first.maybe_duplicate

    # Back to the same text, then moved to another document.
    second.text = first.text
    second.save()
    first.refresh_from_db()
    assert first.maybe_duplicate and second.maybe_duplicate
    assert desk(superuser_client)[DUPLICATES] == (2, [second.pk, first.pk])
    second.document = f.document()
    second.save()
    assert not second.maybe_duplicate
    assert desk(superuser_client)[DUPLICATES] == (0, [])
    # A deleted twin leaves a stale flag, which the desk sees past too.
    third = f.excerpt(document=document, text=first.text)
    assert desk(superuser_client)[DUPLICATES] == (2, [third.pk, first.pk])
    third.delete()
    assert desk(superuser_client)[DUPLICATES] == (0, [])


def test_an_import_flags_the_same_text_in_the_same_document(superuser_client, f):
    from observers.resources import document_key, mission_key

    from .test_import import csv_file, import_file

    existing = f.excerpt(text="Voting was orderly.")
    mission = f.mission()
    row = {"document": document_key(existing.document), "mission": mission_key(mission), "text": existing.text}
    import_file(superuser_client, Excerpt, csv_file([row | {"stance": "positive"}]))

    imported = Excerpt.objects.get(mission=mission)
    existing.refresh_from_db()
    assert imported.maybe_duplicate and existing.maybe_duplicate
    assert desk(superuser_client)[DUPLICATES] == (2, [imported.pk, existing.pk])


def test_the_desk_lists_published_excerpts_whose_document_or_mission_is_not(superuser_client, f):
    mission = f.mission(status=PUBLISHED)
    public = f.excerpt(mission=mission, document=f.document(status=PUBLISHED), status=PUBLISHED)
    draft_document = f.excerpt(mission=mission, document=f.document(), status=PUBLISHED)
    draft_mission = f.excerpt(document=f.document(status=PUBLISHED), status=PUBLISHED)
    f.excerpt(document=f.document())  # a draft itself

    assert public.public
    assert desk(superuser_client)[HIDDEN] == (2, [draft_mission.pk, draft_document.pk])


def test_a_desk_list_longer_than_a_page_counts_every_row(superuser_client, f):
    document = f.document()
    mission = f.mission()
    Excerpt.objects.bulk_create(
        Excerpt(mission=mission, document=document, text=f"Passage {n}", stance="neutral", is_characterisation=True)
        for n in range(101)
    )
    rows = Excerpt.objects.order_by("-updated_at", "-pk").values_list("pk", flat=True)

    assert desk(superuser_client)[UNRATED] == (101, list(rows[:100]))


def test_the_desk_runs_as_many_queries_for_many_rows_as_for_few(superuser_client, f):
    """No query per row; a list longer than the page is counted by one more query."""
    document = f.document(url="")
    mission = f.mission(status=PUBLISHED)
    texts = iter(range(1000))

    def grow_by(n):
        for _ in range(n):
            text = f"Passage {next(texts)}"
            f.excerpt(document=document, text=text, status=PUBLISHED)
            f.excerpt(mission=mission, document=document, text=text, status=PUBLISHED)

    url = reverse("editorial_desk")
    grow_by(5)
    superuser_client.get(url)  # fills per-process caches (content types, …) that the first request builds
    few = len(queries_for(superuser_client, url))
    grow_by(40)
    assert len(queries_for(superuser_client, url)) == few
    assert desk(superuser_client)[DUPLICATES][0] == 90
    # Longer than a page: the duplicates, the hidden excerpts and the two lists of characterisations.
    grow_by(10)
    longer = len(queries_for(superuser_client, url))
    assert longer == few + 4
    grow_by(20)
    assert len(queries_for(superuser_client, url)) == longer
    sections = desk(superuser_client)
    assert sections[DUPLICATES][0] == sections[HIDDEN][0] == sections[UNRATED][0] == 150
    assert len(sections[DUPLICATES][1]) == 100
