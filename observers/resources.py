"""Bulk import and export of the record in the admin, with django-import-export.

Records are named by natural keys, never by database ids:

- an organisation, an election or a topic by its slug; several of them as comma-separated slugs;
- a mission as “organisation slug/election slug/mission type”, e.g. “odihr/kz-2021-01-10-parliamentary/limited_eom”;
- a document by its URL or, for a document without one, as “publisher slug/title”.

An import is always previewed as a dry run and written only once confirmed, all or nothing. Rows that are
new or changed are saved as drafts through the model's save(), so history records who imported which
file; unchanged rows are skipped and keep their status. Nothing is ever published by an import.
"""

import csv
import functools
import re
from datetime import datetime
from decimal import Decimal

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import MultipleObjectsReturned, PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.utils.text import capfirst
from import_export import fields, resources, widgets

from .models import Document, Election, Excerpt, Mission, Organisation, Publishable, Topic

URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
MISSION_KEY_EXAMPLE = "odihr/kz-2021-01-10-parliamentary/limited_eom"


def quoted(values):
    return ", ".join(f"“{value}”" for value in values)


def split_keys(value):
    if value is None:
        return []
    return list(dict.fromkeys(key.strip() for key in str(value).split(",") if key.strip()))


# Natural keys: `find_…(key)` returns the record or raises ValueError in words an editor understands.


def by_slug(model):
    def find(slug):
        try:
            return model.objects.get(slug=slug)
        except model.DoesNotExist:
            raise ValueError(f"No {model._meta.verbose_name} with the slug “{slug}”.") from None

    return find


def mission_key(mission):
    return f"{mission.organisation.slug}/{mission.election.slug}/{mission.mission_type}"


def find_mission(key):
    parts = [part.strip() for part in key.split("/")]
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"“{key}” does not name a mission: write organisation slug/election slug/mission type, "
            f"e.g. “{MISSION_KEY_EXAMPLE}”."
        )
    organisation, election, mission_type = parts
    try:
        return Mission.objects.select_related("organisation", "election").get(
            organisation__slug=organisation, election__slug=election, mission_type=mission_type
        )
    except Mission.DoesNotExist:
        pass
    by_slug(Organisation)(organisation)
    by_slug(Election)(election)
    if mission_type not in Mission.Type.values:
        raise ValueError(f"“{mission_type}” is not a mission type: use one of {', '.join(Mission.Type.values)}.")
    raise ValueError(f"No mission “{key}”: {organisation} has no mission of this type at {election}.")


def document_key(document):
    return document.url or f"{document.publisher.slug}/{document.title}"


def find_document(key):
    if URL_SCHEME.match(key):
        try:
            return Document.objects.get(url=key)
        except Document.DoesNotExist:
            raise ValueError(f"No document with the URL “{key}”.") from None
    publisher, _, title = (part.strip() for part in key.partition("/"))
    matches = list(Document.objects.filter(url="", publisher__slug=publisher, title=title)[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(f"Several documents by “{publisher}” without a URL are titled “{title}”: give them URLs.")
    raise ValueError(f"No document “{key}”: name a document by its URL or, when it has none, as publisher slug/title.")


# Widgets: each cleans a cell or raises ValueError with a message for the editor.


class KeyWidget(widgets.ForeignKeyWidget):
    """A related record named by its natural key."""

    def __init__(self, model, find, key):
        super().__init__(model)
        self.find = find
        self.key = key

    def clean(self, value, row=None, **kwargs):
        key = "" if value is None else str(value).strip()
        return self.find(key) if key else None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else self.key(value)


class KeysWidget(widgets.ManyToManyWidget):
    """Related records named by their natural keys, separated by commas."""

    def __init__(self, model, find, key):
        super().__init__(model)
        self.find = find
        self.key = key

    def clean(self, value, row=None, **kwargs):
        found, problems = [], []
        for key in split_keys(value):
            try:
                found.append(self.find(key))
            except ValueError as error:
                problems.append(str(error))
        if problems:
            raise ValueError(" ".join(problems))
        return found

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else ", ".join(sorted(self.key(related) for related in value.all()))


def slug_widget(model):
    return KeyWidget(model, by_slug(model), key=lambda record: record.slug)


def slugs_widget(model):
    return KeysWidget(model, by_slug(model), key=lambda record: record.slug)


class ChoiceWidget(widgets.CharWidget):
    """A coded value, written as its code in any case."""

    def __init__(self, choices, label, **kwargs):
        super().__init__(**kwargs)
        self.codes = {str(code).lower(): code for code, _ in choices if code != ""}
        self.label = label

    def clean(self, value, row=None, **kwargs):
        text = (super().clean(value, row, **kwargs) or "").strip()
        if not text:
            return text
        try:
            return self.codes[text.lower()]
        except KeyError:
            codes = list(self.codes.values())
            if len(codes) > 15:
                raise ValueError(f"“{text}” is not a known {self.label} code.") from None
            raise ValueError(f"“{text}” is not a {self.label}: use one of {', '.join(codes)}.") from None


class DateWidget(widgets.DateWidget):
    """Dates as year-month-day only, so that 10/01/2021 is never read the American way."""

    def __init__(self, coerce_to_string=True):
        super().__init__(format="%Y-%m-%d", coerce_to_string=coerce_to_string)

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime):  # A spreadsheet's date cell.
            return value.date()
        if isinstance(value, str):
            value = value.strip()
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(f"“{value}” is not a date: write it as year-month-day, e.g. 2021-01-10.") from None


class IntegerWidget(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"“{value}” is not a whole number.")
        if number.adjusted() > 9:
            raise ValueError(f"“{value}” is too large.")
        return int(number)


class BooleanWidget(widgets.BooleanWidget):
    """Yes or no: 1 or 0, true or false, yes or no; an empty cell takes the field's default."""

    WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}

    def clean(self, value, row=None, **kwargs):
        if value is None or value == "":
            return None
        if isinstance(value, (bool, int, float)) and value in (0, 1):
            return bool(value)
        try:
            return self.WORDS[str(value).strip().lower()]
        except KeyError:
            raise ValueError(f"“{value}” is not yes or no: write 1 or 0.") from None


# Resources


class RecordResource(resources.ModelResource):
    """What every import shares: readable errors, skipped unchanged rows, drafts, history, all or nothing."""

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "TextField": widgets.CharWidget,
        "DateField": DateWidget,
        "BooleanField": BooleanWidget,
        "PositiveIntegerField": IntegerWidget,
        "PositiveSmallIntegerField": IntegerWidget,
    }

    #: Column → what to write there, where the model field's own help text does not say it.
    column_help = {}
    #: Column → value, for the example row of the import template.
    example = {}

    class Meta:
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        clean_model_instances = True

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        if f.choices:
            return functools.partial(ChoiceWidget, choices=f.flatchoices, label=f.verbose_name)
        return super().widget_from_django_field(f, default)

    def get_user_visible_fields(self):
        """The columns an import reads: exported-only columns such as the status are left out."""
        return [field for field in self.get_import_fields() if not field.readonly]

    def import_data(self, dataset, **kwargs):
        # A row that fails validation rolls the whole file back, when previewed and when confirmed.
        kwargs["rollback_on_validation_errors"] = True
        result = super().import_data(dataset, **kwargs)
        if not kwargs.get("dry_run") and (result.has_errors() or result.has_validation_errors()):
            # Rolled back (the data changed since the preview): say that nothing was imported, and leave
            # no admin log entries for records that are not there.
            result.rows = []
            result.totals = dict.fromkeys(result.totals, 0)
        return result

    def before_import(self, dataset, **kwargs):
        dataset.headers = [header.strip() if isinstance(header, str) else header for header in dataset.headers or []]
        headers = [header for header in dataset.headers if header not in (None, "")]
        known = [field.column_name for field in self.fields.values()]
        unknown = [header for header in headers if header not in known]
        if unknown:
            raise ValueError(
                f"Unknown column{'s' if len(unknown) > 1 else ''} {quoted(unknown)}. "
                f"The columns are: {', '.join(known)}."
            )
        missing = [self.fields[name].column_name for name in self.get_import_id_fields()]
        missing = [column for column in missing if column not in headers]
        if missing:
            raise ValueError(
                f"The file has no {quoted(missing)} column{'s' if len(missing) > 1 else ''}: every row needs "
                f"{'them' if len(missing) > 1 else 'it'} to find the {self._meta.model._meta.verbose_name} it "
                "adds or changes."
            )

    def get_instance(self, instance_loader, row):
        try:
            return super().get_instance(instance_loader, row)
        except ValueError:
            # An unknown key: reported with the row's other errors when its columns are read.
            return None
        except MultipleObjectsReturned:
            raise ValidationError(
                f"Several {self._meta.model._meta.verbose_name_plural} match this row's "
                f"{', '.join(self.get_import_id_fields())}: change them in the admin instead."
            ) from None

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        # Many-to-many columns are only read after the save: check them now, so that an unknown key is
        # reported with the row's other errors, in the preview.
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget) and not field.readonly and field.column_name in row:
                try:
                    field.clean(row)
                except ValueError as error:
                    errors.setdefault(field.attribute, []).append(ValidationError(str(error)))
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        """Only for rows that are new or changed: check the permission, make a draft, sign the history."""
        user = kwargs.get("user")
        opts = self._meta.model._meta
        if user is not None and not instance._state.adding:
            if not user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
                raise ValidationError(
                    f"You may add {opts.verbose_name_plural} but not change them, and this row changes “{instance}”."
                )
            if getattr(instance, "is_published", False) and not user.has_perm(
                f"{opts.app_label}.publish_{opts.model_name}"
            ):
                raise ValidationError(
                    f"“{instance}” is published: a change would take it back to draft, which only publishers may do."
                )
        if isinstance(instance, Publishable):
            instance.status = Publishable.Status.DRAFT
        if user is not None:
            instance._history_user = user
        if kwargs.get("file_name"):
            # simple-history keeps at most 100 characters of a change reason.
            instance._change_reason = f"Imported from {kwargs['file_name']}"[:100]

    def column_guide(self):
        """(column, what to write there, example) for each column an import reads, for the import page."""
        guide = []
        keys = {self.fields[name].column_name for name in self.get_import_id_fields()}
        for field in self.get_user_visible_fields():
            column = field.column_name
            model_field = self._meta.model._meta.get_field(field.attribute)
            help_text = self.column_help.get(column) or model_field.help_text or capfirst(model_field.verbose_name)
            help_text = str(help_text).rstrip(".") + "."
            if model_field.choices and len(model_field.flatchoices) <= 15 and column not in self.column_help:
                help_text += " One of " + ", ".join(str(code) for code, _ in model_field.flatchoices if code) + "."
            if column in keys:
                help_text = "Identifies the row. " + help_text
            elif not (model_field.blank or model_field.has_default()):
                help_text = "Required. " + help_text
            guide.append((column, help_text, self.example.get(column, "")))
        return guide


class PublishableResource(RecordResource):
    """Status and publication date are exported, never imported: an import only ever writes drafts."""

    status = fields.Field(attribute="status", column_name="status", readonly=True, widget=widgets.CharWidget())
    published_at = fields.Field(
        attribute="published_at", column_name="published_at", readonly=True, widget=widgets.DateTimeWidget()
    )


class OrganisationResource(RecordResource):
    parent = fields.Field(attribute="parent", column_name="parent", widget=slug_widget(Organisation))

    column_help = {
        "parent": "The slug of the organisation this one belongs to, e.g. “osce” for ODIHR",
        "country": "For national bodies: the two-letter country code (ISO 3166), e.g. KZ",
    }
    example = {
        "slug": "odihr",
        "name": "OSCE Office for Democratic Institutions and Human Rights",
        "acronym": "ODIHR",
        "kind": "intergovernmental",
        "parent": "osce",
        "website": "https://www.osce.org/odihr",
        "endorsed_declaration": "1",
    }

    class Meta:
        model = Organisation
        fields = [
            "slug",
            "name",
            "acronym",
            "kind",
            "parent",
            "country",
            "website",
            "endorsed_declaration",
            "endorsed_declaration_on",
            "description",
        ]
        import_id_fields = ["slug"]
        name = "Organisations, matched by slug"

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.slugs_in_file = set(dataset["slug"]) if "slug" in (dataset.headers or []) else set()

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        try:
            super().import_field(field, instance, row, is_m2m, **kwargs)
        except ValueError as error:
            parent = str(row.get("parent") or "").strip()
            if field.column_name == "parent" and parent in getattr(self, "slugs_in_file", ()):
                raise ValueError(
                    f"{error} It comes further down in the file: put parents before their children."
                ) from None
            raise

    def filter_export(self, queryset, **kwargs):
        """Parents before their children, so that the export imports as it is into an empty database."""
        parents = dict(Organisation.objects.values_list("pk", "parent"))

        def depth(pk):
            return 0 if parents.get(pk) is None else 1 + depth(parents[pk])

        return sorted(queryset.select_related("parent"), key=lambda organisation: depth(organisation.pk))


class ElectionResource(RecordResource):
    column_help = {"country": "The two-letter country code (ISO 3166), e.g. KZ"}
    example = {
        "slug": "kz-2021-01-10-parliamentary",
        "country": "KZ",
        "kind": "parliamentary",
        "chamber": "Mazhilis",
        "election_date": "2021-01-10",
        "round": "1",
        "is_early": "0",
    }

    class Meta:
        model = Election
        fields = ["slug", "country", "kind", "chamber", "election_date", "round", "is_early", "notes"]
        import_id_fields = ["slug"]
        name = "Elections, matched by slug"


class MissionResource(PublishableResource):
    organisation = fields.Field(attribute="organisation", column_name="organisation", widget=slug_widget(Organisation))
    election = fields.Field(attribute="election", column_name="election", widget=slug_widget(Election))
    joint_partners = fields.Field(
        attribute="joint_partners", column_name="joint_partners", widget=slugs_widget(Organisation)
    )

    column_help = {
        "organisation": "The slug of the observing organisation, e.g. “odihr”",
        "mission_type": "The type of mission: " + ", ".join(Mission.Type.values),
        "election": "The slug of the election, e.g. “kz-2021-01-10-parliamentary”",
        "joint_partners": "Slugs of the other organisations that signed the same statement, separated by commas",
        "deployed_from": "Year-month-day, e.g. 2020-12-08",
        "deployed_to": "Year-month-day",
    }
    example = {
        "organisation": "odihr",
        "election": "kz-2021-01-10-parliamentary",
        "mission_type": "limited_eom",
        "joint_partners": "osce-pa",
        "head": "Jarosław Domański",
        "core_team": "11",
        "long_term_observers": "24",
        "accredited_observers": "42",
        "deployed_from": "2020-12-08",
        "verdict": "critical",
    }

    class Meta:
        model = Mission
        fields = [
            "organisation",
            "election",
            "mission_type",
            "joint_partners",
            "head",
            "core_team",
            "long_term_observers",
            "short_term_observers",
            "accredited_observers",
            "deployed_from",
            "deployed_to",
            "verdict",
            "notes",
            "sources",
            "status",
            "published_at",
        ]
        import_id_fields = ["organisation", "election", "mission_type"]
        name = "Missions, matched by organisation, election and type"

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("organisation", "election").prefetch_related("joint_partners")


class DocumentResource(PublishableResource):
    publisher = fields.Field(attribute="publisher", column_name="publisher", widget=slug_widget(Organisation))
    election = fields.Field(attribute="election", column_name="election", widget=slug_widget(Election))
    missions = fields.Field(
        attribute="missions", column_name="missions", widget=KeysWidget(Mission, find_mission, mission_key)
    )

    column_help = {
        "url": "Where the text can be read. A document without a URL is matched by its title and publisher",
        "publisher": "The slug of the organisation whose text this is, e.g. “odihr”",
        "date": "The date the text bears: year-month-day, e.g. 2021-01-11",
        "language": "The two-letter language code (ISO 639-1), e.g. en, ru, kk",
        "election": "The slug of the election the text concerns",
        "missions": (
            "The missions the text concerns, separated by commas, each as organisation slug/election slug/"
            f"mission type, e.g. “{MISSION_KEY_EXAMPLE}”"
        ),
    }
    example = {
        "url": "https://www.osce.org/odihr/248786",
        "title": "Press release on ODIHR's final report: Kazakhstan, early parliamentary elections, 2016",
        "kind": "press_release",
        "publisher": "odihr",
        "language": "en",
        "provenance": "own_copy",
        "election": "kz-2016-03-20-parliamentary",
        "missions": "odihr/kz-2016-03-20-parliamentary/eom",
    }

    class Meta:
        model = Document
        fields = [
            "url",
            "title",
            "kind",
            "publisher",
            "author",
            "date",
            "language",
            "archive_url",
            "provenance",
            "election",
            "missions",
            "notes",
            "status",
            "published_at",
        ]
        import_id_fields = ["url"]
        name = "Documents, matched by URL (or title and publisher)"

    def get_instance(self, instance_loader, row):
        if str(row.get("url") or "").strip():
            return super().get_instance(instance_loader, row)
        # No URL: the document without a URL with this title and publisher, if there is one.
        try:
            publisher = self.fields["publisher"].clean(row)
        except (KeyError, ValueError):
            return None
        matches = list(Document.objects.filter(url="", publisher=publisher, title=row.get("title") or "")[:2])
        if len(matches) > 1:
            raise ValidationError("Several documents without a URL have this title and publisher: give them URLs.")
        return matches[0] if matches else None

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("publisher", "election").prefetch_related(
            Prefetch("missions", queryset=Mission.objects.select_related("organisation", "election"))
        )


class ExcerptResource(PublishableResource):
    document = fields.Field(
        attribute="document", column_name="document", widget=KeyWidget(Document, find_document, document_key)
    )
    mission = fields.Field(
        attribute="mission", column_name="mission", widget=KeyWidget(Mission, find_mission, mission_key)
    )
    topics = fields.Field(attribute="topics", column_name="topics", widget=slugs_widget(Topic))
    is_characterisation = fields.Field(
        attribute="is_characterisation",
        column_name="is_characterisation",
        readonly=True,
        widget=widgets.BooleanWidget(),
    )

    column_help = {
        "document": "The document's URL or, for a document without one, publisher slug/title",
        "mission": (
            f"The mission the passage is about, as organisation slug/election slug/mission type, e.g. "
            f"“{MISSION_KEY_EXAMPLE}”"
        ),
        "text": "Verbatim, in the original language. Together with the document and the mission it identifies the row",
        "language": "The two-letter language code (ISO 639-1), e.g. en, ru, kk",
        "topics": "Topic slugs, separated by commas, e.g. “campaign, media”",
        "is_headline": "1 for the mission's overall conclusion in this document, 0 otherwise",
    }
    example = {
        "document": "https://www.osce.org/odihr/248786",
        "mission": "odihr/kz-2016-03-20-parliamentary/eom",
        "text": (
            "Kazakhstan still has a considerable way to go in meeting its OSCE commitments for democratic elections"
        ),
        "language": "en",
        "stance": "critical",
        "is_headline": "1",
    }

    class Meta:
        model = Excerpt
        # The primary excerpts that a characterisation reports are linked in the admin, not imported.
        fields = [
            "document",
            "mission",
            "text",
            "language",
            "translation",
            "translation_status",
            "page",
            "paragraph",
            "stance",
            "topics",
            "is_headline",
            "fidelity",
            "fidelity_note",
            "is_characterisation",
            "status",
            "published_at",
        ]
        # An excerpt is its verbatim words in one document about one mission: there is no other stable
        # key. Correcting the text of an existing excerpt is done in the admin (an import would add one).
        import_id_fields = ["document", "mission", "text"]
        name = "Excerpts, matched by document, mission and text"

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related(
            "document__publisher", "mission__organisation", "mission__election"
        ).prefetch_related("topics")


def import_template(request, app_label, model_name):
    """A CSV with the columns an import reads and one example row, for editors to fill in."""
    try:
        model_admin = admin.site.get_model_admin(apps.get_model(app_label, model_name))
    except (LookupError, admin.sites.NotRegistered):
        raise Http404("There is no such record.") from None
    if not hasattr(model_admin, "has_import_permission"):
        raise Http404("These records are not imported.")
    if not model_admin.has_import_permission(request):
        raise PermissionDenied
    resource = model_admin.get_import_resource_classes(request)[0]()
    columns = [field.column_name for field in resource.get_user_visible_fields()]
    example = getattr(resource, "example", {})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{model_name}-import-template.csv"'
    response.write("\ufeff")  # So that spreadsheet programs read the file as UTF-8.
    writer = csv.writer(response)
    writer.writerow(columns)
    writer.writerow([example.get(column, "") for column in columns])
    return response
