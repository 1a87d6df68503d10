"""The editors' workplace: roles, review and publish, preview, history and revert, concurrent edits."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from observers.models import Document, Excerpt, Mission

pytestmark = pytest.mark.django_db

DRAFT, IN_REVIEW, PUBLISHED = "draft", "in_review", "published"


@pytest.fixture
def users(django_user_model):
    def make(name, group=None, **extra):
        user = django_user_model.objects.create_user(name, f"{name}@example.org", "x", is_staff=True, **extra)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    return {
        "editor": make("editor", "Editor"),
        "publisher": make("publisher", "Publisher"),
        "superuser": make("root", is_superuser=True),
        "staff_without_role": make("visitor"),
    }


def client_for(client, user):
    client.force_login(user)
    return client


def admin_url(obj, view, *args):
    return reverse(f"admin:observers_{obj._meta.model_name}_{view}", args=[obj.pk, *args])


def transition(client, obj, name):
    return client.post(admin_url(obj, "transition", name))


@pytest.fixture
def excerpt(excerpt_factory, mission_factory, document_factory):
    mission = mission_factory(status=PUBLISHED)
    document = document_factory(publisher=mission.organisation, status=PUBLISHED)
    return excerpt_factory(mission=mission, document=document)


def test_roles_exist_with_their_permissions():
    editor = set(Group.objects.get(name="Editor").permissions.values_list("codename", flat=True))
    publisher = set(Group.objects.get(name="Publisher").permissions.values_list("codename", flat=True))
    assert {"add_excerpt", "change_excerpt", "view_excerpt", "change_mission"} <= editor
    assert not {p for p in editor if p.startswith(("publish_", "delete_"))}
    assert {"publish_excerpt", "publish_mission", "publish_document", "delete_excerpt"} <= publisher
    assert editor < publisher


# The permission matrix: each role × each action → allowed or refused, enforced on the server.

MATRIX = {
    # action: (editor, publisher, superuser, staff without a role)
    "submit": (True, True, True, False),
    "publish": (False, True, True, False),
    "unpublish": (False, True, True, False),
    "return_to_draft": (True, True, True, False),
    "delete": (False, True, True, False),
    "revert": (False, True, True, False),
    "add": (True, True, True, False),
    "change": (True, True, True, False),
}
ROLES = ["editor", "publisher", "superuser", "staff_without_role"]


def attempt(client, action, excerpt):
    """Try the action through the admin; return whether it took effect."""
    if action == "submit":
        transition(client, excerpt, "submit")
        excerpt.refresh_from_db()
        return excerpt.status == IN_REVIEW
    if action == "publish":
        transition(client, excerpt, "publish")
        excerpt.refresh_from_db()
        return excerpt.status == PUBLISHED
    if action == "unpublish":
        Excerpt.objects.filter(pk=excerpt.pk).update(status=PUBLISHED)
        transition(client, excerpt, "unpublish")
        excerpt.refresh_from_db()
        return excerpt.status == DRAFT
    if action == "return_to_draft":
        Excerpt.objects.filter(pk=excerpt.pk).update(status=IN_REVIEW)
        transition(client, excerpt, "return_to_draft")
        excerpt.refresh_from_db()
        return excerpt.status == DRAFT
    if action == "delete":
        client.post(admin_url(excerpt, "delete"), {"post": "yes"})
        return not Excerpt.objects.filter(pk=excerpt.pk).exists()
    if action == "revert":
        first = excerpt.history.earliest()
        excerpt.text = "A later wording"
        excerpt.save()
        client.post(
            reverse("admin:observers_excerpt_simple_history", args=[excerpt.pk, first.history_id]),
            form_data(excerpt, text=first.text),
        )
        excerpt.refresh_from_db()
        return excerpt.text == first.text
    if action == "add":
        before = Excerpt.objects.count()
        client.post(reverse("admin:observers_excerpt_add"), form_data(excerpt, text="A new passage"))
        return Excerpt.objects.count() == before + 1
    if action == "change":
        response = client.get(admin_url(excerpt, "change"))
        token = response.context["original"].updated_at.isoformat() if response.status_code == 200 else ""
        client.post(admin_url(excerpt, "change"), form_data(excerpt, text="Changed wording", edit_token=token))
        excerpt.refresh_from_db()
        return excerpt.text == "Changed wording"
    raise AssertionError(action)


def form_data(excerpt, **overrides):
    data = {
        "mission": excerpt.mission_id,
        "document": excerpt.document_id,
        "text": excerpt.text,
        "language": excerpt.language,
        "translation": "",
        "translation_status": "",
        "page": "",
        "paragraph": "",
        "stance": excerpt.stance,
        "fidelity": excerpt.fidelity,
        "fidelity_note": "",
        # An editor who tries to publish through the form: the status is not a form field.
        "status": PUBLISHED,
    }
    return data | overrides


@pytest.mark.parametrize("action", MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, users, excerpt, role, action):
    allowed = MATRIX[action][ROLES.index(role)]
    assert attempt(client_for(client, users[role]), action, excerpt) is allowed


def test_editor_cannot_publish_through_the_form_or_an_action(client, users, excerpt):
    editor = client_for(client, users["editor"])
    response = editor.get(admin_url(excerpt, "change"))
    token = response.context["original"].updated_at.isoformat()
    editor.post(admin_url(excerpt, "change"), form_data(excerpt, text="Edited", edit_token=token))
    excerpt.refresh_from_db()
    assert excerpt.text == "Edited" and excerpt.status == DRAFT
    editor.post(reverse("admin:observers_excerpt_changelist"), {"action": "publish", "_selected_action": [excerpt.pk]})
    excerpt.refresh_from_db()
    assert excerpt.status == DRAFT
    assert transition(editor, excerpt, "publish").status_code == 403


def test_publish_buttons_only_for_publishers(client, users, excerpt):
    page = client_for(client, users["editor"]).get(admin_url(excerpt, "change")).content.decode()
    assert "Submit for review" in page and ">Publish<" not in page
    page = client_for(client, users["publisher"]).get(admin_url(excerpt, "change")).content.decode()
    assert "Submit for review" in page and ">Publish<" in page


def test_every_transition_is_recorded_in_history_with_who(client, users, excerpt):
    transition(client_for(client, users["editor"]), excerpt, "submit")
    transition(client_for(client, users["publisher"]), excerpt, "publish")
    transition(client, excerpt, "unpublish")
    records = list(excerpt.history.order_by("history_date"))
    steps = [(r.history_change_reason, r.history_user.username if r.history_user else None, r.status) for r in records]
    assert steps[-3:] == [
        ("Submit for review", "editor", IN_REVIEW),
        ("Publish", "publisher", PUBLISHED),
        ("Unpublish", "publisher", DRAFT),
    ]
    page = client.get(reverse("admin:observers_excerpt_history", args=[excerpt.pk])).content.decode()
    assert "Submit for review" in page and "Publish" in page and "editor" in page


def test_bulk_actions(client, users, excerpt_factory, mission_factory, document_factory):
    mission = mission_factory(status=PUBLISHED)
    document = document_factory(publisher=mission.organisation, status=PUBLISHED)
    excerpts = [excerpt_factory(mission=mission, document=document) for _ in range(3)]
    publisher = client_for(client, users["publisher"])
    publisher.post(
        reverse("admin:observers_excerpt_changelist"),
        {"action": "publish", "_selected_action": [e.pk for e in excerpts]},
    )
    assert set(Excerpt.objects.filter(pk__in=[e.pk for e in excerpts]).values_list("status", flat=True)) == {PUBLISHED}
    publisher.post(
        reverse("admin:observers_mission_changelist"), {"action": "unpublish", "_selected_action": [mission.pk]}
    )
    mission.refresh_from_db()
    assert mission.status == DRAFT


def test_characterisation_needs_fidelity_and_published_primaries(
    client, users, excerpt, excerpt_factory, organisation_factory, document_factory
):
    third_party = document_factory(publisher=organisation_factory(), status=PUBLISHED)
    claim = excerpt_factory(mission=excerpt.mission, document=third_party)
    claim.primary_excerpts.add(excerpt)
    assert claim.is_characterisation and claim.fidelity == ""
    publisher = client_for(client, users["publisher"])
    response = transition(publisher, claim, "publish")
    claim.refresh_from_db()
    assert claim.status == DRAFT
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Rate the characterisation's fidelity" in m for m in messages)
    assert any("Publish the primary excerpts it reports first" in m for m in messages)
    claim.fidelity = "selective"
    claim.save()
    transition(publisher, excerpt, "publish")
    transition(publisher, claim, "publish")
    claim.refresh_from_db()
    assert claim.status == PUBLISHED


def test_preview_for_staff_404_for_the_public(client, users, excerpt):
    url = excerpt.get_absolute_url()
    assert client.get(url).status_code == 404
    response = client_for(client, users["editor"]).get(url)
    assert response.status_code == 200
    assert "Preview." in response.content.decode() and excerpt.text in response.content.decode()
    for obj in [excerpt.mission, excerpt.document]:
        type(obj).objects.filter(pk=obj.pk).update(status=DRAFT)
        assert client.get(obj.get_absolute_url()).status_code == 200
    client.logout()
    for obj in [excerpt.mission, excerpt.document]:
        assert client.get(obj.get_absolute_url()).status_code == 404


def test_history_shows_field_differences_and_publisher_reverts(client, users, excerpt):
    publisher = client_for(client, users["publisher"])
    original = excerpt.text
    token = publisher.get(admin_url(excerpt, "change")).context["original"].updated_at.isoformat()
    publisher.post(admin_url(excerpt, "change"), form_data(excerpt, text="Reworded passage", edit_token=token))
    page = publisher.get(reverse("admin:observers_excerpt_history", args=[excerpt.pk])).content.decode()
    assert "Reworded passage" in page and original in page
    first = excerpt.history.earliest()
    publisher.post(
        reverse("admin:observers_excerpt_simple_history", args=[excerpt.pk, first.history_id]),
        form_data(excerpt, text=first.text),
    )
    excerpt.refresh_from_db()
    assert excerpt.text == original
    assert excerpt.history.count() == 3


def test_second_editor_is_told_and_shown_what_changed(client, users, excerpt, django_user_model):
    first = client_for(client, users["editor"])
    token = first.get(admin_url(excerpt, "change")).context["original"].updated_at.isoformat()
    # Meanwhile the publisher saves a change.
    excerpt.text = "The publisher's wording"
    excerpt._history_user = users["publisher"]
    excerpt.save()
    response = first.post(
        admin_url(excerpt, "change"), form_data(excerpt, text="The editor's wording", edit_token=token)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "publisher saved this excerpt while you were editing it" in page
    assert "The publisher&#x27;s wording" in page or "The publisher's wording" in page
    excerpt.refresh_from_db()
    assert excerpt.text == "The publisher's wording"
    # Saving again, having seen their change, keeps the editor's wording.
    new_token = response.context["adminform"].form.data["edit_token"]
    first.post(admin_url(excerpt, "change"), form_data(excerpt, text="The editor's wording", edit_token=new_token))
    excerpt.refresh_from_db()
    assert excerpt.text == "The editor's wording"


def test_data_quality_warnings_on_save(client, users, excerpt, excerpt_factory, document_factory, mission_factory):
    excerpt_factory(mission=excerpt.mission, document=excerpt.document, text=excerpt.text)
    editor = client_for(client, users["editor"])
    token = editor.get(admin_url(excerpt, "change")).context["original"].updated_at.isoformat()
    response = editor.post(admin_url(excerpt, "change"), form_data(excerpt, edit_token=token), follow=True)
    assert "likely a duplicate" in response.content.decode()
    document = document_factory(url="")
    response = editor.get(admin_url(document, "change"))
    assert response.status_code == 200
    assert "This document has no URL" in " ".join(document.quality_warnings())
    assert "no published excerpt" in " ".join(mission_factory().quality_warnings())


def test_editorial_desk_lists_review_and_incomplete(client, users, excerpt, document_factory):
    Excerpt.objects.filter(pk=excerpt.pk).update(status=IN_REVIEW)
    no_url = document_factory(url="", title="A document without an address")
    assert client_for(client, users["editor"]).get(reverse("editorial_desk")).status_code == 403
    page = client_for(client, users["publisher"]).get(reverse("editorial_desk")).content.decode()
    assert "Excerpts waiting for review (1)" in page
    assert no_url.title in page
    assert "Documents without a URL" in page


def test_validation_speaks_to_editors(client, users, mission_factory):
    mission = mission_factory()
    editor = client_for(client, users["editor"])
    response = editor.get(admin_url(mission, "change"))
    token = response.context["original"].updated_at.isoformat()
    data = {
        "organisation": mission.organisation_id,
        "election": mission.election_id,
        "mission_type": mission.mission_type,
        "deployed_from": "2020-02-10",
        "deployed_to": "2020-02-01",
        "edit_token": token,
    }
    page = editor.post(admin_url(mission, "change"), data).content.decode()
    assert "The deployment ends before it starts." in page
    assert "IntegrityError" not in page and "constraint" not in page.lower()


def test_status_is_not_a_form_field(users, client, mission_factory):
    page = client_for(client, users["publisher"]).get(reverse("admin:observers_mission_add")).content.decode()
    assert 'name="status"' not in page


def test_public_models_have_workflow():
    for model in (Mission, Document, Excerpt):
        assert set(model.TRANSITIONS) == {"submit", "return_to_draft", "publish", "unpublish"}
