import datetime
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import NestedObjects, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models, router
from django.db.models import Count, Exists, OuterRef, Subquery, Window, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from . import search
from .models import Document, Election, Excerpt, Mission, Organisation, SearchEntry, Topic
from .resources import DocumentResource, ElectionResource, ExcerptResource, MissionResource, OrganisationResource
from .signals import cached_for_version

admin.site.site_header = "Election Observation Record"
admin.site.site_title = "Election Observation Record"
admin.site.index_title = "The record"


# Lists of a million rows: the changelists count matching rows up to this many, then say “more than”.
# Filters on columns without an index count by reading rows: up to a thousand matches, that stays
# cheap even for a value that one row in a hundred has.
COUNT_LIMIT = 1_000


class BoundedCountPaginator(Paginator):
    """Counts a filtered list up to one more than COUNT_LIMIT: an exact count of most of a million rows
    is a changelist's slowest query. A whole table is counted exactly: SQLite counts a table without
    a WHERE clause from its b-tree's pages, without reading the rows."""

    bound = None

    @cached_property
    def count(self):
        queryset = self.object_list
        if not queryset.query.has_filters():
            return queryset.count()
        self.bound = COUNT_LIMIT
        return queryset.order_by()[: self.bound + 1].count()

    @cached_property
    def more_than(self):
        """The bound when the count stopped there (the templates then say “more than”), else None."""
        return self.bound if self.bound is not None and self.count > self.bound else None

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        # Past the bound, the links stop at the last page of the rows counted.
        for page in super().get_elided_page_range(number, on_each_side=on_each_side, on_ends=on_ends):
            if not (self.more_than and page == self.num_pages):
                yield page


class PageByKeysPaginator(BoundedCountPaginator):
    """Reads a page's primary keys first, then the page's rows by key.

    Where no index gives the list's order (a search across several fields: the rows of each
    field's matches are merged), the database then sorts the matching keys only, not whole rows.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = self.object_list.model._default_manager.in_bulk(keys)
        return self._get_page([rows[key] for key in keys if key in rows], number, self)


class LargeTableMixin:
    """For tables of tens of thousands to millions of rows.

    No count of the whole table besides the filtered one, bounded counts (see BoundedCountPaginator),
    and no counts per filter choice (facets: a COUNT for every choice of every filter, over the whole
    filtered list: seconds for the documents, minutes for the excerpts).
    """

    paginator = BoundedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


def count_of(model, field):
    """The number of `model` rows pointing at the outer row through `field`, as a subquery.

    Read from the foreign key's index, row by row: unlike a join with GROUP BY, it does not change
    the list's other queries (counts, dates) into aggregates over the joined rows.
    """
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("*")).values("n"), output_field=models.IntegerField()), 0)


class YearFilter(admin.SimpleListFilter):
    """The years from the first date to the last: where a date hierarchy would run a DISTINCT over a
    date function of every row, this reads the earliest and latest dates once."""

    title = "year"
    parameter_name = "year"
    field = None  # the date field, possibly across a relation

    def lookups(self, request, model_admin):
        # The first date and the last, each read from an index's end (MIN() and MAX() together read
        # every row on SQLite; across a join, PostgreSQL reads every row for either).
        dates = model_admin.model.objects.filter(**{f"{self.field}__isnull": False}).values_list(self.field, flat=True)
        first, last = dates.order_by(self.field).first(), dates.order_by(f"-{self.field}").first()
        if first is None or last is None:
            return []
        return [(str(year), str(year)) for year in range(last.year, first.year - 1, -1)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            year = int(self.value())
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error
        return queryset.filter(**{f"{self.field}__year": year})


class ListedChildrenFormSet(BaseInlineFormSet):
    """The first `max_listed` children only (one more is read, to know whether there are others)."""

    max_listed = 50

    def get_queryset(self):
        if not hasattr(self, "_listed"):
            rows = list(super().get_queryset()[: self.max_listed + 1])
            self.more = len(rows) > self.max_listed
            self._listed = rows[: self.max_listed]
        return self._listed

    def parent_name(self):
        return self.instance._meta.verbose_name

    def all_children_url(self):
        """The children's changelist, filtered to this parent's."""
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return f"{url}?{self.fk.name}__id__exact={self.instance.pk}"


class ListedChildrenInline(admin.TabularInline):
    """Children listed read-only with a link to their own form, plus blank rows to add new ones.

    Editing existing rows happens on the child's own page, so the parent's form renders a fixed
    number of queries however many children it has. Past `max_listed`, a link leads to the
    children's own list, filtered to this parent's.
    """

    extra = 1
    show_change_link = True
    formset = ListedChildrenFormSet
    max_listed = 50
    template = "admin/observers/edit_inline/listed_children.html"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.max_listed = self.max_listed
        return formset

    def has_change_permission(self, request, obj=None):
        return False


class EditorialForm(forms.ModelForm):
    """Refuses to overwrite a record that someone else saved after this form was opened."""

    def clean(self):
        cleaned_data = super().clean()
        token = self.data.get("edit_token")
        instance = self.instance
        if instance.pk and token and instance.updated_at.isoformat() != token:
            message = conflict_message(instance, token)
            # The form comes back with the current version's token: saving again keeps these values.
            self.data = self.data.copy()
            self.data["edit_token"] = instance.updated_at.isoformat()
            raise forms.ValidationError(message, code="edit_conflict")
        return cleaned_data


def conflict_message(instance, token):
    name = instance._meta.verbose_name
    try:
        opened = datetime.datetime.fromisoformat(token)
    except ValueError:
        opened = instance.updated_at
    # The version the editor opened is the first one recorded at or after its timestamp.
    versions = list(
        instance.history.filter(history_date__gte=opened).order_by("history_date").select_related("history_user")
    )
    opened_version, later = (versions[0], versions[1:]) if versions else (None, [])
    who = ", ".join(sorted({str(record.history_user or "someone") for record in later})) or "someone"
    changes = []
    if later:
        for change in later[-1].diff_against(opened_version).changes:
            field = instance._meta.get_field(change.field).verbose_name
            changes.append(f"{field}: “{change.old}” → “{change.new}”")
    return (
        f"{who.capitalize() if who == 'someone' else who} saved this {name} while you were editing it. "
        + (f"Their changes: {'; '.join(changes)}. " if changes else "")
        + "Your changes are not saved yet: check the values below, then save again to keep yours."
    )


# The page that confirms a deletion names at most this many objects of each kind that the deletion
# would take with it or that stop it, and counts the others.
DELETION_LISTED = 20


class ListedNestedObjects(NestedObjects):
    """The admin's collector of what a deletion touches, reading at most DELETION_LISTED objects of a
    relation (per batch of the objects deleted) and counting the others (`unlisted`, {model: count},
    added up relation by relation), where what it leaves unread can hold nothing more: objects that
    stop the deletion (PROTECT), and the links of a many-to-many relation, which nothing refers to.
    Every other relation is read whole, as Django reads them all: at a million excerpts, the page
    for deleting an organisation read and listed its 150,000 excerpts, missions and documents (43 s
    and 24 MB), and for a topic, its 122,000 links to excerpts (8 s and 8 MB)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unlisted = Counter()

    def related_objects(self, related_model, related_fields, objs):
        related = super().related_objects(related_model, related_fields, objs)
        on_delete = {field.remote_field.on_delete for field in related_fields}
        if not (on_delete == {models.PROTECT} or (on_delete == {models.CASCADE} and related_model._meta.auto_created)):
            return related
        # Any of them, as an index gives them: in the model's order, some would be sorted whole first.
        listed = list(related.order_by()[: DELETION_LISTED + 1])
        if len(listed) > DELETION_LISTED:
            self.unlisted[related_model] += related.count() - DELETION_LISTED
        # A queryset of the listed objects alone, as the collector goes on to filter and read it.
        return related.filter(pk__in=[obj.pk for obj in listed[:DELETION_LISTED]])


def deleted_objects(objs, request, admin_site):
    """What the admin's get_deleted_objects() gives, as Django's function of that name makes it, with
    at most DELETION_LISTED objects of each relation listed and the others counted (see
    ListedNestedObjects): (objects deleted, nested; {kind: count}; kinds the user may not delete;
    objects that stop the deletion)."""
    if not objs:
        return [], {}, set(), []
    collector = ListedNestedObjects(using=router.db_for_write(objs[0]._meta.model), origin=objs)
    collector.collect(objs)
    perms_needed = set()

    def format_callback(obj):
        opts = obj._meta
        label = f"{capfirst(opts.verbose_name)}: {obj}"
        if not admin_site.is_registered(obj.__class__):
            return label
        if not admin_site.get_model_admin(obj.__class__).has_delete_permission(request, obj):
            perms_needed.add(opts.verbose_name)
        try:
            url = reverse(f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
        except NoReverseMatch:
            return label
        return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

    def more(model):
        count = collector.unlisted[model]
        name = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
        return f"… and {count:,} more {name}, not listed"

    to_delete = collector.nested(format_callback)
    protected = [format_callback(obj) for obj in collector.protected]
    protected_models = {obj.__class__ for obj in collector.protected}
    protected += [more(model) for model in collector.unlisted if model in protected_models]
    to_delete += [more(model) for model in collector.unlisted if model not in protected_models]
    model_count = {
        model._meta.verbose_name_plural: len(objs) + collector.unlisted[model]
        for model, objs in collector.model_objs.items()
    }
    return to_delete, model_count, perms_needed, protected


class EditorialAdmin(SimpleHistoryAdmin):
    """History for everyone; reverting to an earlier version only for publishers."""

    form = EditorialForm
    change_form_template = "admin/observers/change_form.html"

    def get_deleted_objects(self, objs, request):
        return deleted_objects(objs, request, self.admin_site)

    def revert_disabled(self, request, obj=None):
        return not is_publisher(request.user)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and self.revert_disabled(request):
            raise PermissionDenied("Only publishers can revert a record to an earlier version.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        self.warn_about_quality(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self.warn_about_quality(request, obj)
        return super().response_change(request, obj)

    def warn_about_quality(self, request, obj):
        for warning in getattr(obj, "quality_warnings", list)():
            self.message_user(request, warning, messages.WARNING)


def is_publisher(user):
    return user.is_active and (
        user.is_superuser or any(user.has_perm(model.publish_permission()) for model in (Mission, Document, Excerpt))
    )


class PublishableAdmin(EditorialAdmin):
    """Draft → in review → published, and back: as actions and as buttons on the change form.

    The status is never a form field: it changes only through a transition, which checks the user's
    role on the server and is recorded in history.
    """

    actions = ["submit", "return_to_draft", "publish", "unpublish"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "status"]

    def has_publish_permission(self, request):
        return request.user.has_perm(self.model.publish_permission())

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{info[0]}_{info[1]}_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id, name):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        self.apply(request, [obj], name)
        return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]))

    def apply(self, request, objects, name):
        done, refused = 0, []
        for obj in objects:
            try:
                obj.transition(name, request.user)
            except ValidationError as error:
                refused.append(f"{obj}: {' '.join(error.messages)}")
            else:
                done += 1
                self.log_change(request, obj, obj.TRANSITIONS[name][0])
        label = self.model.TRANSITIONS[name][0]
        if done:
            noun = self.opts.verbose_name if done == 1 else self.opts.verbose_name_plural
            self.message_user(request, f"{label}: done for {done} {noun}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, f"{label} refused for {message}", messages.ERROR)

    @admin.action(description="Submit for review", permissions=["change"])
    def submit(self, request, queryset):
        self.apply(request, queryset, "submit")

    @admin.action(description="Return to draft", permissions=["change"])
    def return_to_draft(self, request, queryset):
        self.apply(request, queryset, "return_to_draft")

    @admin.action(description="Publish", permissions=["publish"])
    def publish(self, request, queryset):
        self.apply(request, queryset, "publish")

    @admin.action(description="Unpublish (back to draft)", permissions=["publish"])
    def unpublish(self, request, queryset):
        self.apply(request, queryset, "unpublish")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["transitions"] = [
                (
                    name,
                    label,
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_transition", args=[obj.pk, name]),
                )
                for name, label in obj.available_transitions(request.user)
            ]
            context["publish_problems"] = obj.publish_problems()
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Organisation)
class OrganisationAdmin(ImportExportMixin, EditorialAdmin):
    resource_classes = [OrganisationResource]
    list_display = ["name", "acronym", "kind", "parent", "endorsed_declaration", "mission_count"]
    list_filter = ["kind", "endorsed_declaration", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "acronym", "slug"]
    # Restated from Meta.ordering so that the autocomplete lists in order (it starts from get_queryset
    # too) whatever the queryset's annotations.
    ordering = ["name"]
    prepopulated_fields = {"slug": ["acronym"]}
    autocomplete_fields = ["parent"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    show_facets = admin.ShowFacets.ALWAYS
    fieldsets = [
        (None, {"fields": ["name", "acronym", "slug", "kind", "parent", "country", "website"]}),
        ("Declaration of Principles", {"fields": ["endorsed_declaration", "endorsed_declaration_on"]}),
        (None, {"fields": ["description"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(mission_count=count_of(Mission, "organisation"))

    @admin.display(description="missions", ordering="mission_count")
    def mission_count(self, obj):
        return obj.mission_count


@admin.register(Topic)
class TopicAdmin(EditorialAdmin):
    list_display = ["name", "slug", "excerpt_count"]
    search_fields = ["name"]
    ordering = ["name"]  # See OrganisationAdmin.ordering.
    prepopulated_fields = {"slug": ["name"]}

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        counts = topic_excerpt_counts()  # once for the page, not once per row
        for topic in changelist.result_list:
            topic.excerpt_total = counts.get(topic.pk, 0)
        return changelist

    @admin.display(description="excerpts")
    def excerpt_count(self, obj):
        return obj.excerpt_total

    def get_deleted_objects(self, objs, request):
        """Topics on more than TOPIC_LINKS_DELETED_HERE excerpts are deleted with `manage.py
        delete_topic`, not here: each of their excerpts is written again (its copy of its topics' ids,
        in the lists' indexes), and at a million excerpts a topic on 122,000 of them took 14 s on
        SQLite and more than two minutes on PostgreSQL, far beyond a request's time limit."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        links = model_count.get(Excerpt.topics.through._meta.verbose_name_plural, 0)
        if links > TOPIC_LINKS_DELETED_HERE:
            slugs = " ".join(topic.slug for topic in objs)
            protected.append(
                f"Links to {links:,} excerpts: too many to remove in one request. An administrator "
                f"deletes the topic, a batch of excerpts at a time, with: manage.py delete_topic {slugs}"
            )
        return to_delete, model_count, perms_needed, protected


# A topic on more excerpts than this is deleted with `manage.py delete_topic` (see
# TopicAdmin.get_deleted_objects): on PostgreSQL, each took 0.9–1.1 ms here (5,000: about 5 s).
TOPIC_LINKS_DELETED_HERE = 5_000


def topic_excerpt_counts():
    """{topic id: its number of excerpts}, counted from the link table's topic index once per record
    version: at a million excerpts the counts read a million and a half index entries (0.1 s on SQLite,
    0.3 s on PostgreSQL), and the topics' list is read far more often than the record changes."""
    links = Excerpt.topics.through.objects.order_by().values_list("topic").annotate(n=Count("*"))
    return cached_for_version("admin-topic-excerpt-counts", lambda: dict(links))


class MissionInline(ListedChildrenInline):
    model = Mission
    fields = ["organisation", "mission_type", "head", "verdict", "status"]
    autocomplete_fields = ["organisation"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "election")


@admin.register(Election)
class ElectionAdmin(LargeTableMixin, ImportExportMixin, EditorialAdmin):
    resource_classes = [ElectionResource]
    list_display = ["__str__", "country_name", "kind", "election_date", "round", "is_early", "mission_count"]
    list_filter = ["kind", "country", "is_early"]
    search_fields = ["chamber", "slug", "notes"]
    ordering = ["-election_date", "country"]  # See OrganisationAdmin.ordering.
    date_hierarchy = "election_date"
    prepopulated_fields = {"slug": ["country", "kind", "election_date"]}
    show_facets = admin.ShowFacets.ALLOW  # 5,000 rows: on request, about a tenth of a second
    inlines = [MissionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(mission_count=count_of(Mission, "election"))

    @admin.display(description="missions", ordering="mission_count")
    def mission_count(self, obj):
        return obj.mission_count

    @admin.display(description="country", ordering="country")
    def country_name(self, obj):
        # The admin's own display of a field with choices flattens the field's 250 country choices
        # for every row.
        return obj.country.name


class MissionYearFilter(YearFilter):
    title = "election year"
    field = "election__election_date"


@admin.register(Mission)
class MissionAdmin(LargeTableMixin, ImportExportMixin, PublishableAdmin):
    resource_classes = [MissionResource]
    list_display = ["__str__", "organisation", "election", "mission_type", "head", "verdict", "status"]
    list_filter = ["status", "mission_type", "verdict", "election__country", "election__kind", MissionYearFilter]
    search_fields = ["organisation__name", "organisation__acronym", "head", "election__slug", "notes"]
    autocomplete_fields = ["organisation", "election", "joint_partners", "verdict_excerpt"]
    readonly_fields = ["published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["organisation", "election", "mission_type", "joint_partners", "head"]}),
        (
            "Size and deployment",
            {
                "fields": [
                    ("core_team", "long_term_observers"),
                    ("short_term_observers", "accredited_observers"),
                    ("deployed_from", "deployed_to"),
                ]
            },
        ),
        ("Verdict", {"fields": ["verdict", "verdict_excerpt"]}),
        (None, {"fields": ["notes", "sources"]}),
        ("Publication", {"fields": ["status", "published_at", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        # A mission's name shows its organisation and election: in the changelist and in the
        # autocomplete results, which start from this queryset too.
        return super().get_queryset(request).select_related("organisation", "election")


class DocumentYearFilter(YearFilter):
    field = "date"


class ExcerptInline(ListedChildrenInline):
    model = Excerpt
    fields = ["mission", "text", "language", "stance", "is_headline", "status"]
    autocomplete_fields = ["mission"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("document", "mission__organisation", "mission__election")


@admin.register(Document)
class DocumentAdmin(LargeTableMixin, ImportExportMixin, PublishableAdmin):
    resource_classes = [DocumentResource]
    list_display = ["title", "kind", "publisher", "date", "provenance", "status"]
    list_filter = [
        "status",
        "kind",
        "provenance",
        "language",
        ("publisher", admin.RelatedOnlyFieldListFilter),
        DocumentYearFilter,
    ]
    list_select_related = ["publisher"]
    search_fields = ["title", "author", "url", "publisher__name", "publisher__acronym"]
    autocomplete_fields = ["publisher", "election", "missions"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "kind", "publisher", "author", "date", "language"]}),
        ("Where to read it", {"fields": ["url", "archive_url", "provenance"]}),
        ("What it concerns", {"fields": ["election", "missions", "notes"]}),
        ("Publication", {"fields": ["status", "published_at", "created_at", "updated_at"]}),
    ]
    inlines = [ExcerptInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "missions":
            # The autocomplete widget prints the selected missions' names.
            kwargs["queryset"] = Mission.objects.select_related("organisation", "election")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def joins_search_index(queryset):
    """Whether the queryset reads the full-text index by a join (SQLite's search, see search.matching)."""
    return any(join.table_name == SearchEntry._meta.db_table for join in queryset.query.alias_map.values())


class ExcerptChangeList(ChangeList):
    def get_ordering(self, request, queryset):
        # Always an order that an index serves, with nothing added, so that the list reads the page's
        # rows in order and stops instead of sorting a million: newest first by id (every index also
        # holds the id, so a filter on an indexed column is read in this order too), or during a search
        # on SQLite the full-text index's own row key (the sort key: newest document first).
        return ["-search_entry__key" if joins_search_index(queryset) else "-pk"]

    def get_results(self, request):
        super().get_results(request)
        # The columns' related rows, for the page's rows only: joined in the list's query, they would
        # let SQLite start from the organisations and sort every excerpt.
        self.result_list = list(self.result_list)
        prefetch_related_objects(self.result_list, "mission__organisation", "mission__election", "document")


class DocumentKindFilter(admin.SimpleListFilter):
    """The document's kind, read from the excerpt's own copy: no join with the documents."""

    title = "document kind"
    parameter_name = "document_kind"

    def lookups(self, request, model_admin):
        return Document.Kind.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(document_kind=self.value())
        return queryset


class TopicFilter(admin.SimpleListFilter):
    """Excerpts with a topic, checked row by row in the list's order: the page's rows are found first,
    and no DISTINCT over a million rows is needed, as a join with the topics would."""

    title = "topic"
    parameter_name = "topics__id__exact"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Topic.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            topic = int(self.value())
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error
        links = Excerpt.topics.through.objects.filter(excerpt=OuterRef("pk"), topic=topic)
        return queryset.filter(Exists(links))


@admin.register(Excerpt)
class ExcerptAdmin(LargeTableMixin, ImportExportMixin, PublishableAdmin):
    resource_classes = [ExcerptResource]
    list_display = [
        "__str__",
        "mission",
        "document",
        "stance",
        "is_headline",
        "is_characterisation",
        "fidelity",
        "status",
    ]
    # Newest first (see ExcerptChangeList.get_ordering). The columns do not sort: sorting a million rows
    # by a column takes seconds. The filters narrow the list instead.
    ordering = ["-pk"]
    sortable_by = []
    list_filter = [
        "status",
        "stance",
        "is_headline",
        "is_characterisation",
        "fidelity",
        "language",
        DocumentKindFilter,
        TopicFilter,
    ]
    list_select_related = []  # see ExcerptChangeList.get_results
    # Searched by get_search_results(): the words in the text or translation through the full-text
    # index, or in the document's title or the organisation's acronym.
    search_fields = ["text", "translation", "document__title", "mission__organisation__acronym"]
    search_help_text = (
        "Words in the text or translation (all of them, whole words), in the document's title or in the "
        "organisation's acronym."
    )
    autocomplete_fields = ["mission", "document", "topics", "primary_excerpts"]
    readonly_fields = ["is_characterisation", "published_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["mission", "document", "text", "language"]}),
        ("Translation", {"fields": ["translation", "translation_status"]}),
        ("Where in the document", {"fields": [("page", "paragraph")]}),
        ("Coding", {"fields": ["stance", "topics", "is_headline"]}),
        (
            "Characterisation",
            {
                "fields": ["is_characterisation", "primary_excerpts", "fidelity", "fidelity_note"],
                "description": "For a third party's text about what a mission said: link the mission's "
                "own passages it claims to report, and rate how faithfully it reports them.",
            },
        ),
        ("Publication", {"fields": ["status", "published_at", "created_at", "updated_at"]}),
    ]

    def get_changelist(self, request, **kwargs):
        return ExcerptChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return PageByKeysPaginator(queryset, per_page, orphans, allow_empty_first_page)

    def get_search_results(self, request, queryset, search_term):
        """Excerpts where every word of the search is found: in the text or translation (the full-text
        index: whole words), in the document's title or in the acronym of the mission's organisation.

        `icontains` on the text would read a million rows. Words found in no title and no acronym (the
        usual case) are matched by the index alone, in its own order, so that the page's rows are read
        first and the search stops there.
        """
        if not search_term.strip():
            return queryset, False
        words = search.terms(search_term)
        if not words:
            return queryset.none(), False
        elsewhere = self.matches_elsewhere(words)
        text_only = [word for word in words if word not in elsewhere]
        for word, condition in elsewhere.items():
            in_text = models.Q(pk__in=search.matching(Excerpt.objects.all(), word).values("pk"))
            queryset = queryset.filter(in_text | condition)
        if text_only:
            # In the index's order (for the autocomplete too, which keeps the queryset's order).
            queryset = search.ordered(search.matching(queryset, " ".join(text_only)), searched=True)
        return queryset, False

    def matches_elsewhere(self, words):
        """{word: condition} for the words found in a document's title or an organisation's acronym."""
        found = {}
        # `organisation` is the excerpt's indexed copy of its mission's organisation: no join.
        for model, field, relation in [(Document, "title", "document"), (Organisation, "acronym", "organisation")]:
            # One pass over the table for all the words.
            lookups = [models.Q(**{f"{field}__icontains": word}) for word in words]
            counts = model.objects.aggregate(**{f"w{n}": Count("pk", filter=q) for n, q in enumerate(lookups)})
            for n, word in enumerate(words):
                if counts[f"w{n}"]:
                    matching_rows = model.objects.filter(**{f"{field}__icontains": word}).values("pk")
                    found[word] = found.get(word, models.Q()) | models.Q(**{f"{relation}__in": matching_rows})
        return found


def changed_last(queryset, limit, indexed=True):
    """How many rows `queryset` has, and its `limit` most recently changed rows, most recent first.

    The keys are found and sorted without the joins of select_related (which let SQLite start from the
    wrong table); then only the listed rows are read in full. A list read from an index of its own
    rows is counted apart, and only when it is longer than the page: a window count would carry
    every row through the sort, which costs SQLite more than a second pass over the index. A list
    with no index to read (`indexed=False`) is read in one pass, its window count giving the total.
    """
    keyed = queryset.order_by("-updated_at", "-pk")
    if indexed:
        keys = list(keyed.values_list("pk", flat=True)[:limit])
        total = len(keys) if len(keys) < limit else queryset.count()
    else:
        found = list(keyed.annotate(total=Window(Count("pk"))).values_list("pk", "total")[:limit])
        keys, total = [key for key, _ in found], (found[0][1] if found else 0)
    rows = {row.pk: row for row in queryset.filter(pk__in=keys)}
    return total, [rows[key] for key in keys if key in rows]


def editorial_desk(request):
    """For publishers: what waits for review, and what is incomplete."""
    if not is_publisher(request.user):
        raise PermissionDenied("The editorial desk is for publishers.")
    limit = 100
    # An excerpt is shown by its text, status and change date: nothing to join, nothing else to read.
    excerpts = Excerpt.objects.only("text", "status", "updated_at")
    missions = Mission.objects.select_related("organisation", "election")
    published = Excerpt.Status.PUBLISHED
    # Every excerpt with the same text as another of its document is flagged (Excerpt.save()); a flag
    # outlives a change of the other one, so each is checked against the other flagged ones.
    flagged = Excerpt.objects.filter(maybe_duplicate=True)
    same_text = flagged.filter(document=OuterRef("document"), text=OuterRef("text")).exclude(pk=OuterRef("pk"))
    # (title, rows, whether an index of the section's own rows finds them: see changed_last)
    sections = [
        ("Missions waiting for review", missions.filter(status=Mission.Status.IN_REVIEW), True),
        ("Documents waiting for review", Document.objects.filter(status=Document.Status.IN_REVIEW), True),
        ("Excerpts waiting for review", excerpts.filter(status=Excerpt.Status.IN_REVIEW), True),
        (
            "Published excerpts that are not public (their document or mission is not published)",
            # `public` is the excerpt's copy of "published, with its document and mission published".
            excerpts.filter(status=published, public=False),
            True,
        ),
        ("Characterisations without a fidelity rating", excerpts.characterisations().filter(fidelity=""), True),
        (
            "Characterisations without primary excerpts",
            excerpts.characterisations().filter(primary_excerpts__isnull=True),
            True,
        ),
        (
            "Published missions without a published excerpt",
            # Each mission looks for one public excerpt of its own (the excerpts' mission index), rather
            # than listing the missions of every public excerpt.
            missions.filter(status=published).exclude(
                Exists(Excerpt.objects.published().filter(mission=OuterRef("pk")))
            ),
            False,
        ),
        ("Documents without a URL", Document.objects.filter(url=""), False),
        (
            "Likely duplicates (the same text in the same document)",
            excerpts.filter(maybe_duplicate=True).filter(Exists(same_text)),
            True,
        ),
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Editorial desk",
        "sections": [
            {
                "title": title,
                "count": count,
                "items": [
                    (item, reverse(f"admin:observers_{item._meta.model_name}_change", args=[item.pk])) for item in items
                ],
            }
            for title, count, items in [
                (title, *changed_last(queryset, limit, indexed)) for title, queryset, indexed in sections
            ]
        ],
        "limit": limit,
    }
    return TemplateResponse(request, "admin/observers/desk.html", context)
