"""Bulk import and export in the admin, over HTTP as editors use it: preview, confirm, natural keys."""

import csv
import datetime
import io
import json

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic
from observers.resources import (
    DocumentResource,
    ElectionResource,
    ExcerptResource,
    MissionResource,
    OrganisationResource,
)

from .conftest import make_document, make_election, make_excerpt, make_mission, make_organisation

pytestmark = pytest.mark.django_db

RESOURCES = {
    Organisation: OrganisationResource,
    Election: ElectionResource,
    Mission: MissionResource,
    Document: DocumentResource,
    Excerpt: ExcerptResource,
}
RUSSIAN = "Выборы прошли организованно"
# Every letter of the Kazakh alphabet that Russian lacks: ә ғ қ ң ө ұ ү һ і.
KAZAKH = "Сайлау ұйымдасқан түрде өтті. Шаһардағы учаскелерде бақылаушылардың жұмысына кедергі болған жоқ, әрине."
DRAFT = Mission.Status.DRAFT
PUBLISHED = Mission.Status.PUBLISHED


def admin_url(model, view, *args):
    return reverse(f"admin:observers_{model._meta.model_name}_{view}", args=args)


def format_index(model, name):
    """The import form posts the position of the format in the admin's list of formats."""
    formats = admin.site.get_model_admin(model).get_import_formats()
    return str([format_class.__name__ for format_class in formats].index(name))


def csv_file(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_file(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def json_file(rows):
    return json.dumps(rows, ensure_ascii=False).encode()


def dry_run(client, model, content, name="records.csv", file_format="CSV"):
    upload = SimpleUploadedFile(name, content)
    return client.post(
        admin_url(model, "import"),
        {"import_file": upload, "format": format_index(model, file_format), "resource": "0"},
    )


def confirm(client, model, preview):
    """Posts the preview's confirm form, as the “Confirm import” button does."""
    form = preview.context["confirm_form"]
    assert form is not None, "the preview offers no confirmation"
    return client.post(admin_url(model, "process_import"), {field.name: field.value() for field in form})


def import_file(client, model, content, name="records.csv", file_format="CSV"):
    preview = dry_run(client, model, content, name, file_format)
    assert preview.status_code == 200
    return confirm(client, model, preview)


def export(client, model, file_format):
    resource = RESOURCES[model]
    fields = {f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()}
    response = client.post(
        admin_url(model, "export"), {"format": format_index(model, file_format), "resource": "0", **fields}
    )
    assert response.status_code == 200, response.content[:500]
    return response.content


def counts(model):
    return model.objects.count(), model.history.count()


@pytest.fixture
def staff(django_user_model):
    """An editor: staff, with only the view, add and change permissions of the record."""
    user = django_user_model.objects.create_user(username="staff", password="x", is_staff=True)
    models = ["organisation", "election", "mission", "document", "excerpt", "topic"]
    codenames = [f"{action}_{model}" for model in models for action in ("view", "add", "change")]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="observers", codename__in=codenames))
    return user


@pytest.fixture(params=["superuser", "staff"])
def importer(request, client, superuser, staff):
    user = superuser if request.param == "superuser" else staff
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def kz_2021():
    return make_election(slug="kz-2021-01-10-parliamentary", election_date=datetime.date(2021, 1, 10))


@pytest.fixture
def odihr():
    return make_organisation(slug="odihr", name="OSCE Office for Democratic Institutions and Human Rights")


@pytest.mark.parametrize("model", RESOURCES)
def test_the_changelist_offers_import_export_and_a_template(superuser_client, model):
    response = superuser_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    html = response.text.replace("'", '"')
    assert f'href="{admin_url(model, "import")}"' in html
    assert f'href="{admin_url(model, "export")}' in html  # followed by the changelist's filters
    template_url = reverse("import_template", args=["observers", model._meta.model_name])
    assert f'href="{template_url}"' in html
    assert "Download an import template" in html


@pytest.mark.parametrize("model", RESOURCES)
def test_history_pages_still_work_beside_import_export(superuser_client, model):
    record = {
        Organisation: make_organisation,
        Election: make_election,
        Mission: make_mission,
        Document: make_document,
        Excerpt: make_excerpt,
    }[model]()

    response = superuser_client.get(admin_url(model, "history", record.pk))

    assert response.status_code == 200
    assert b"Change history" in response.content


def test_the_import_page_documents_the_columns(superuser_client):
    response = superuser_client.get(admin_url(Mission, "import"))

    assert response.status_code == 200
    for field in MissionResource().get_user_visible_fields():
        assert f"<code>{field.column_name}</code>".encode() in response.content
    assert "Identifies the row." in response.text
    assert reverse("import_template", args=["observers", "mission"]) in response.text
    assert "saved as drafts" in response.text
    assert "<code>status</code>" not in response.text  # exported, never imported


def test_a_dry_run_shows_new_changed_and_bad_rows_and_writes_nothing(superuser_client, odihr, kz_2021):
    make_organisation(slug="osce-pa")
    make_mission(organisation=odihr, election=kz_2021, mission_type=Mission.Type.LIMITED_EOM, head="Someone")
    before = counts(Mission)
    rows = [
        {"organisation": "osce-pa", "election": kz_2021.slug, "mission_type": "parliamentary_delegation", "head": ""},
        {"organisation": "odihr", "election": kz_2021.slug, "mission_type": "limited_eom", "head": "Jarosław Domański"},
        {"organisation": "xyz", "election": kz_2021.slug, "mission_type": "eom", "head": ""},
    ]

    response = dry_run(superuser_client, Mission, csv_file(rows))

    assert response.status_code == 200
    text = " ".join(response.text.split())
    assert "3 rows in the file: 1 new, 1 changed, 0 unchanged (skipped), 1 with errors." in text
    assert "Row 3, column organisation: No organisation with the slug “xyz”." in text
    assert "Nothing has been saved." in text
    assert "Traceback" not in text and "DoesNotExist" not in text
    assert response.context.get("confirm_form") is None
    assert counts(Mission) == before
    assert Mission.objects.get(organisation=odihr).head == "Someone"


def test_a_confirmed_import_writes_drafts_signed_by_the_importer(importer, odihr, kz_2021):
    osce_pa = make_organisation(slug="osce-pa")
    changed = make_mission(organisation=odihr, election=kz_2021, mission_type="limited_eom", status="in_review")
    history_before = Mission.history.count()
    rows = [
        {"organisation": "osce-pa", "election": kz_2021.slug, "mission_type": "parliamentary_delegation", "head": ""},
        {
            "organisation": "odihr",
            "election": kz_2021.slug,
            "mission_type": "limited_eom",
            "head": "Jarosław Domański",
            "joint_partners": "osce-pa",
        },
    ]

    preview = dry_run(importer, Mission, csv_file(rows), name="missions-2021.csv")

    assert " ".join(preview.text.split()).count("2 rows in the file: 1 new, 1 changed, 0 unchanged") == 1
    assert Mission.objects.count() == 1 and Mission.history.count() == history_before  # still a preview
    response = confirm(importer, Mission, preview)

    assert response.status_code == 302
    assert response.url == admin_url(Mission, "changelist")
    changed.refresh_from_db()
    assert changed.head == "Jarosław Domański"
    assert list(changed.joint_partners.all()) == [osce_pa]
    new = Mission.objects.get(organisation=osce_pa)
    for mission in (changed, new):
        assert mission.status == DRAFT
        assert mission.published_at is None
        latest = mission.history.first()
        assert latest.history_user == importer.user
        assert latest.history_change_reason == "Imported from missions-2021.csv"
    assert Mission.history.count() > history_before
    assert LogEntry.objects.filter(user=importer.user).count() == 2


def test_a_long_file_name_fits_in_the_history(superuser_client):
    name = "elections-" + "к" * 150 + ".csv"
    rows = [{"slug": "kz-2021-01-10-parliamentary", "country": "KZ", "kind": "parliamentary"}]
    rows[0]["election_date"] = "2021-01-10"

    import_file(superuser_client, Election, csv_file(rows), name)

    reason = Election.history.get().history_change_reason
    assert reason.startswith("Imported from elections-кк") and len(reason) == 100


def test_importing_the_same_file_twice_changes_nothing_the_second_time(superuser_client, odihr, kz_2021):
    mission = make_mission(organisation=odihr, election=kz_2021, mission_type="limited_eom")
    document = make_document(publisher=odihr, url="https://www.osce.org/odihr/475025")
    rows = [
        {
            "document": document.url,
            "mission": "odihr/kz-2021-01-10-parliamentary/limited_eom",
            "text": "left voters without genuine choice",
            "stance": "critical",
            "topics": "campaign, fundamental-freedoms",
            "is_headline": "1",
        },
        {
            "document": document.url,
            "mission": "odihr/kz-2021-01-10-parliamentary/limited_eom",
            "text": "efficiently prepared",
            "stance": "positive",
            "topics": "",
            "is_headline": "0",
        },
    ]
    content = csv_file(rows)
    import_file(superuser_client, Excerpt, content)
    assert Excerpt.objects.filter(mission=mission, status=DRAFT).count() == 2
    # An editor publishes one of them in between.
    published = Excerpt.objects.get(text="efficiently prepared")
    published.status = PUBLISHED
    published.save()
    before = counts(Excerpt)

    preview = dry_run(superuser_client, Excerpt, content)
    response = confirm(superuser_client, Excerpt, preview)

    assert "2 rows in the file: 0 new, 0 changed, 2 unchanged (skipped)" in " ".join(preview.text.split())
    assert response.status_code == 302
    assert counts(Excerpt) == before
    published.refresh_from_db()
    assert published.status == PUBLISHED
    headline = Excerpt.objects.get(is_headline=True)
    assert sorted(headline.topics.values_list("slug", flat=True)) == ["campaign", "fundamental-freedoms"]


def test_an_xlsx_import_works(superuser_client):
    rows = [
        {
            "slug": "kz-2021-01-10-parliamentary",
            "country": "kz",
            "kind": "parliamentary",
            "chamber": "Mazhilis",
            "election_date": datetime.date(2021, 1, 10),  # a date cell
            "round": 1,
            "is_early": False,
            "notes": None,  # an empty cell
        },
        {
            "slug": "kz-2016-03-20-parliamentary",
            "country": "KZ",
            "kind": "parliamentary",
            "chamber": "Mazhilis",
            "election_date": "2016-03-20",  # a text cell
            "round": "1",
            "is_early": "yes",
            "notes": "Early elections to the Mazhilis.",
        },
    ]

    response = import_file(superuser_client, Election, xlsx_file(rows), "elections.xlsx", "XLSX")

    assert response.status_code == 302
    election = Election.objects.get(slug="kz-2021-01-10-parliamentary")
    assert (election.country.code, election.election_date, election.round, election.is_early, election.notes) == (
        "KZ",
        datetime.date(2021, 1, 10),
        1,
        False,
        "",
    )
    assert Election.objects.get(slug="kz-2016-03-20-parliamentary").is_early
    # The same workbook again: nothing to change.
    again = dry_run(superuser_client, Election, xlsx_file(rows), "elections.xlsx", "XLSX")
    assert "0 new, 0 changed, 2 unchanged" in " ".join(again.text.split())


def test_a_json_import_works(superuser_client):
    make_organisation(slug="osce", name="Organization for Security and Co-operation in Europe")
    rows = [
        {"slug": "odihr", "name": "OSCE Office for Democratic Institutions and Human Rights", "acronym": "ODIHR"}
        | {"kind": "intergovernmental", "parent": "osce", "endorsed_declaration": True},
        {"slug": "osce-pa", "name": "OSCE Parliamentary Assembly", "acronym": "OSCE PA"}
        | {"kind": "parliamentary_assembly", "parent": "osce", "endorsed_declaration": 1},
    ]

    response = import_file(superuser_client, Organisation, json_file(rows), "organisations.json", "JSON")

    assert response.status_code == 302
    odihr = Organisation.objects.get(slug="odihr")
    assert (odihr.parent.slug, odihr.acronym, odihr.endorsed_declaration) == ("osce", "ODIHR", True)
    assert Organisation.objects.get(slug="osce-pa").kind == Organisation.Kind.PARLIAMENTARY_ASSEMBLY


@pytest.mark.parametrize("file_format", ["CSV", "XLSX", "JSON"])
def test_russian_and_kazakh_text_round_trips_exactly(superuser_client, file_format):
    cec = make_organisation(slug="cec", name="Центральная избирательная комиссия", acronym="ЦИК", description=KAZAKH)
    mission = make_mission(organisation=cec)
    document = make_document(publisher=cec, title=f"Заявление: {RUSSIAN}", language="ru", url="")
    kazakh = make_excerpt(mission=mission, document=document, text=KAZAKH, language="kk", page="3", paragraph="§ 2 (ә)")
    russian = make_excerpt(
        mission=mission,
        document=document,
        text=f"{RUSSIAN},\nно «без реальной конкуренции».",
        language="ru",
        translation="The elections were well organised, but “without real competition”.",
        translation_status="editor",
    )
    fields = ["text", "language", "translation", "translation_status", "page", "paragraph", "stance"]
    originals = {excerpt.text: [getattr(excerpt, name) for name in fields] for excerpt in (kazakh, russian)}
    extension = file_format.lower()

    organisations = export(superuser_client, Organisation, file_format)
    excerpts = export(superuser_client, Excerpt, file_format)

    # Importing the export into the same record changes nothing: every text compares equal.
    unchanged = dry_run(superuser_client, Excerpt, excerpts, f"excerpts.{extension}", file_format)
    assert "2 rows in the file: 0 new, 0 changed, 2 unchanged" in " ".join(unchanged.text.split())
    # Taken away and imported again, the records come back letter for letter.
    Excerpt.objects.all().delete()
    Organisation.objects.filter(pk=cec.pk).update(name="?", acronym="?", description="?")
    import_file(superuser_client, Organisation, organisations, f"organisations.{extension}", file_format)
    import_file(superuser_client, Excerpt, excerpts, f"excerpts.{extension}", file_format)

    cec.refresh_from_db()
    assert (cec.name, cec.acronym, cec.description) == ("Центральная избирательная комиссия", "ЦИК", KAZAKH)
    restored = {excerpt.text: [getattr(excerpt, name) for name in fields] for excerpt in Excerpt.objects.all()}
    assert restored == originals
    assert set(Excerpt.objects.values_list("document", flat=True)) == {document.pk}


@pytest.mark.parametrize("model", RESOURCES)
def test_an_export_imports_back_as_unchanged(superuser_client, model):
    excerpt = make_excerpt(translation="An English translation", translation_status="editor")
    excerpt.topics.set(Topic.objects.all()[:2])
    excerpt.mission.joint_partners.add(make_organisation())
    excerpt.document.missions.add(excerpt.mission)
    make_organisation(parent=excerpt.mission.organisation)
    history_before = model.history.count()

    content = export(superuser_client, model, "CSV")
    preview = dry_run(superuser_client, model, content)
    total = model.objects.count()

    assert f"{total} row{'s' if total > 1 else ''} in the file: 0 new, 0 changed, {total} unchanged" in " ".join(
        preview.text.split()
    )
    confirm(superuser_client, model, preview)
    assert model.history.count() == history_before


def test_an_error_in_the_middle_row_leaves_nothing_written(superuser_client, odihr, kz_2021):
    late = make_organisation(slug="late")
    rows = [
        {"organisation": "odihr", "election": kz_2021.slug, "mission_type": "eom", "head": "First"},
        {"organisation": "late", "election": kz_2021.slug, "mission_type": "eom", "head": "Second"},
        {"organisation": "odihr", "election": kz_2021.slug, "mission_type": "expert_team", "head": "Third"},
    ]
    preview = dry_run(superuser_client, Mission, csv_file(rows))
    before = counts(Mission)
    log_before = LogEntry.objects.count()
    # Between the preview and the confirmation, the second row's organisation goes away.
    late.delete()

    response = confirm(superuser_client, Mission, preview)

    assert response.status_code == 302
    assert counts(Mission) == before
    assert not Mission.objects.filter(head="First").exists()
    assert LogEntry.objects.count() == log_before
    messages = [str(message) for message in response.wsgi_request._messages]
    assert messages == ["Import finished: 0 new, 0 updated, 0 deleted and 0 skipped missions."]


def test_a_dry_run_with_an_error_in_the_middle_row_writes_nothing(superuser_client, odihr, kz_2021):
    rows = [
        {"organisation": "odihr", "election": kz_2021.slug, "mission_type": "eom", "deployed_from": "2020-12-08"},
        {"organisation": "odihr", "election": kz_2021.slug, "mission_type": "other", "deployed_from": "08/12/2020"},
        {"organisation": "odihr", "election": kz_2021.slug, "mission_type": "expert_team", "deployed_from": ""},
    ]
    before = counts(Mission)

    response = dry_run(superuser_client, Mission, csv_file(rows))

    assert "Row 2, column deployed_from: “08/12/2020” is not a date" in response.text
    assert response.context.get("confirm_form") is None
    assert counts(Mission) == before


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"slug": "x", "name": "X", "kind": "ngo"}], "“ngo” is not a kind: use one of intergovernmental,"),
        ([{"slug": "x", "name": "X", "kind": "other", "country": "XX"}], "“XX” is not a known country code."),
        ([{"slug": "x", "name": "X", "kind": "other", "endorsed_declaration": "maybe"}], "“maybe” is not yes or no"),
        ([{"slug": "x", "name": "X", "kind": "other", "acronymn": "X"}], "Unknown column “acronymn”."),
        ([{"name": "X", "kind": "other"}], "The file has no “slug” column"),
        ([{"slug": "x", "name": "", "kind": "other"}], "Row 1, column name: This field cannot be blank."),
    ],
)
def test_row_errors_are_in_words_an_editor_understands(superuser_client, rows, message):
    response = dry_run(superuser_client, Organisation, csv_file(rows))

    assert message in response.text
    assert response.context.get("confirm_form") is None
    assert not Organisation.objects.exists()


def test_a_parent_further_down_the_file_is_pointed_out(superuser_client):
    rows = [
        {"slug": "odihr", "name": "ODIHR", "kind": "intergovernmental", "parent": "osce"},
        {"slug": "osce", "name": "OSCE", "kind": "intergovernmental", "parent": ""},
    ]

    response = dry_run(superuser_client, Organisation, csv_file(rows))

    assert "No organisation with the slug “osce”. It comes further down in the file" in response.text


def test_a_mission_key_names_what_is_missing(superuser_client, odihr, kz_2021):
    make_mission(organisation=odihr, election=kz_2021, mission_type="limited_eom")
    document = make_document(publisher=odihr)
    rows = [
        {
            "document": document.url,
            "mission": "odihr/kz-2021-01-10-parliamentary/eom",
            "text": "a",
            "stance": "neutral",
        },
        {"document": document.url, "mission": "odihr/kz-2021-01-10", "text": "b", "stance": "neutral"},
        {"document": document.url, "mission": "odihr/nowhere/eom", "text": "c", "stance": "neutral"},
        {"document": "https://example.org/none", "mission": "odihr/nowhere/eom", "text": "d", "stance": "neutral"},
    ]

    response = dry_run(superuser_client, Excerpt, csv_file(rows))

    assert "No mission “odihr/kz-2021-01-10-parliamentary/eom”" in response.text
    assert "“odihr/kz-2021-01-10” does not name a mission" in response.text
    assert "No election with the slug “nowhere”." in response.text
    assert "No document with the URL “https://example.org/none”." in response.text


def test_a_document_without_url_is_matched_by_publisher_and_title(superuser_client, odihr, kz_2021):
    mission = make_mission(organisation=odihr, election=kz_2021, mission_type="limited_eom")
    document = make_document(publisher=odihr, url="", title="Press release on the final report", notes="")
    documents = [{"url": "", "title": document.title, "kind": "press_release", "publisher": "odihr", "notes": "New"}]
    excerpts = [
        {
            "document": "odihr/Press release on the final report",
            "mission": "odihr/kz-2021-01-10-parliamentary/limited_eom",
            "text": "lacked genuine competition",
            "stance": "critical",
        }
    ]

    import_file(superuser_client, Document, csv_file(documents))
    import_file(superuser_client, Excerpt, csv_file(excerpts))

    document.refresh_from_db()
    assert Document.objects.count() == 1 and document.notes == "New"
    assert Excerpt.objects.get().document == document
    assert Excerpt.objects.get().mission == mission


def test_an_import_never_publishes_and_changes_published_records_only_for_publishers(importer, odihr, kz_2021):
    mission = make_mission(organisation=odihr, election=kz_2021, mission_type="eom", status=PUBLISHED)
    rows = [{"organisation": "odihr", "election": kz_2021.slug, "mission_type": "eom", "head": "New head"}]
    rows[0]["status"] = "published"  # an exported column: ignored

    preview = dry_run(importer, Mission, csv_file(rows))

    mission.refresh_from_db()
    if importer.user.is_superuser:
        confirm(importer, Mission, preview)
        mission.refresh_from_db()
        assert (mission.head, mission.status, mission.published_at) == ("New head", DRAFT, None)
    else:
        assert "is published: a change would take it back to draft, which only publishers may do." in preview.text
        assert preview.context.get("confirm_form") is None
        assert (mission.head, mission.status) == ("", PUBLISHED)


def test_updating_needs_the_change_permission(client, staff, odihr):
    staff.user_permissions.remove(Permission.objects.get(codename="change_organisation"))
    client.force_login(staff)
    rows = [
        {"slug": "odihr", "name": "Renamed", "kind": "intergovernmental"},
        {"slug": "new", "name": "New", "kind": "other"},
    ]

    response = dry_run(client, Organisation, csv_file(rows))

    assert "You may add organisations but not change them" in response.text
    assert response.context.get("confirm_form") is None


def test_importing_needs_the_add_permission_and_exporting_the_view_permission(client, django_user_model):
    viewer = django_user_model.objects.create_user(username="viewer", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_organisation"))
    client.force_login(viewer)

    changelist = client.get(admin_url(Organisation, "changelist"))
    assert admin_url(Organisation, "import") not in changelist.text
    assert "Download an import template" not in changelist.text
    assert admin_url(Organisation, "export") in changelist.text
    assert client.get(admin_url(Organisation, "import")).status_code == 403
    assert client.get(reverse("import_template", args=["observers", "organisation"])).status_code == 403
    assert dry_run(client, Organisation, csv_file([{"slug": "x", "name": "X", "kind": "other"}])).status_code == 403
    assert export(client, Organisation, "CSV").decode().startswith("slug,name,")
    assert not Organisation.objects.exists()


@pytest.mark.parametrize("model", RESOURCES)
def test_the_template_has_the_import_columns_and_an_example_row(superuser_client, model):
    response = superuser_client.get(reverse("import_template", args=["observers", model._meta.model_name]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"{model._meta.model_name}-import-template.csv" in response["Content-Disposition"]
    header, example = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == [field.column_name for field in RESOURCES[model]().get_user_visible_fields()]
    assert "id" not in header and "status" not in header
    assert len(example) == len(header) and any(example)


def test_the_templates_example_imports_cleanly(superuser_client):
    make_organisation(slug="osce", name="Organization for Security and Co-operation in Europe")
    for model in (Organisation, Election):
        template = superuser_client.get(reverse("import_template", args=["observers", model._meta.model_name]))

        preview = dry_run(superuser_client, model, template.content)

        assert "1 row in the file: 1 new, 0 changed, 0 unchanged" in " ".join(preview.text.split())
        assert preview.context["confirm_form"] is not None


def test_the_preview_cannot_be_skipped(settings):
    assert not getattr(settings, "IMPORT_EXPORT_SKIP_ADMIN_CONFIRM", False)
    assert not any(admin.site.get_model_admin(model).is_skip_import_confirm_enabled() for model in RESOURCES)


def test_the_file_can_wait_in_the_shared_cache_between_preview_and_confirmation(superuser_client, settings):
    settings.IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
    rows = [{"slug": "kz-2021-01-10-parliamentary", "country": "KZ", "kind": "parliamentary"}]
    rows[0] |= {"election_date": "2021-01-10", "notes": KAZAKH}

    for content, name, file_format in [(csv_file(rows), "e.csv", "CSV"), (xlsx_file(rows), "e.xlsx", "XLSX")]:
        Election.objects.all().delete()
        response = import_file(superuser_client, Election, content, name, file_format)
        assert response.status_code == 302
        assert Election.objects.get().notes == KAZAKH


def test_an_unknown_template_is_not_found(superuser_client):
    assert superuser_client.get(reverse("import_template", args=["observers", "topic"])).status_code == 404
    assert superuser_client.get(reverse("import_template", args=["observers", "nothing"])).status_code == 404
