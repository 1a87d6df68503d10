import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from .models import Document, Election, Excerpt, Mission, Organisation, Topic
from .resources import DocumentResource, ElectionResource, ExcerptResource, MissionResource, OrganisationResource

admin.site.site_header = "Election Observation Record"
admin.site.site_title = "Election Observation Record"
admin.site.index_title = "The record"


class ListedChildrenInline(admin.TabularInline):
    """Children listed read-only with a link to their own form, plus blank rows to add new ones.

    Editing existing rows happens on the child's own page, so the parent's form renders a fixed
    number of queries however many children it has.
    """

    extra = 1
    show_change_link = True

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


class EditorialAdmin(SimpleHistoryAdmin):
    """History for everyone; reverting to an earlier version only for publishers."""

    form = EditorialForm
    change_form_template = "admin/observers/change_form.html"

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
    # Meta.ordering is left out of queries with GROUP BY, such as the mission count's: restated so
    # that the autocomplete lists in order (it starts from get_queryset too).
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
        return super().get_queryset(request).annotate(mission_count=Count("missions", distinct=True))

    @admin.display(description="missions", ordering="mission_count")
    def mission_count(self, obj):
        return obj.mission_count


@admin.register(Topic)
class TopicAdmin(EditorialAdmin):
    list_display = ["name", "slug", "excerpt_count"]
    search_fields = ["name"]
    ordering = ["name"]  # See OrganisationAdmin.ordering.
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(excerpt_count=Count("excerpts"))

    @admin.display(description="excerpts", ordering="excerpt_count")
    def excerpt_count(self, obj):
        return obj.excerpt_count


class MissionInline(ListedChildrenInline):
    model = Mission
    fields = ["organisation", "mission_type", "head", "verdict", "status"]
    autocomplete_fields = ["organisation"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "election")


@admin.register(Election)
class ElectionAdmin(ImportExportMixin, EditorialAdmin):
    resource_classes = [ElectionResource]
    list_display = ["__str__", "country", "kind", "election_date", "round", "is_early", "mission_count"]
    list_filter = ["kind", "country", "is_early"]
    search_fields = ["chamber", "slug", "notes"]
    ordering = ["-election_date", "country"]  # See OrganisationAdmin.ordering.
    date_hierarchy = "election_date"
    prepopulated_fields = {"slug": ["country", "kind", "election_date"]}
    show_facets = admin.ShowFacets.ALWAYS
    inlines = [MissionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(mission_count=Count("missions"))

    @admin.display(description="missions", ordering="mission_count")
    def mission_count(self, obj):
        return obj.mission_count


@admin.register(Mission)
class MissionAdmin(ImportExportMixin, PublishableAdmin):
    resource_classes = [MissionResource]
    list_display = ["__str__", "organisation", "election", "mission_type", "head", "verdict", "status"]
    list_filter = ["status", "mission_type", "verdict", "election__country", "election__kind"]
    search_fields = ["organisation__name", "organisation__acronym", "head", "election__slug", "notes"]
    autocomplete_fields = ["organisation", "election", "joint_partners", "verdict_excerpt"]
    date_hierarchy = "election__election_date"
    show_facets = admin.ShowFacets.ALWAYS
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


class ExcerptInline(ListedChildrenInline):
    model = Excerpt
    fields = ["mission", "text", "language", "stance", "is_headline", "status"]
    autocomplete_fields = ["mission"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("document", "mission__organisation", "mission__election")


@admin.register(Document)
class DocumentAdmin(ImportExportMixin, PublishableAdmin):
    resource_classes = [DocumentResource]
    list_display = ["title", "kind", "publisher", "date", "provenance", "status"]
    list_filter = ["status", "kind", "provenance", "language", ("publisher", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["publisher"]
    search_fields = ["title", "author", "url", "publisher__name", "publisher__acronym"]
    autocomplete_fields = ["publisher", "election", "missions"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    date_hierarchy = "date"
    show_facets = admin.ShowFacets.ALWAYS
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


@admin.register(Excerpt)
class ExcerptAdmin(ImportExportMixin, PublishableAdmin):
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
    list_filter = [
        "status",
        "stance",
        "is_headline",
        "is_characterisation",
        "fidelity",
        "language",
        "document__kind",
        "topics",
    ]
    list_select_related = ["mission__organisation", "mission__election", "document"]
    search_fields = ["text", "translation", "document__title", "mission__organisation__acronym"]
    autocomplete_fields = ["mission", "document", "topics", "primary_excerpts"]
    show_facets = admin.ShowFacets.ALWAYS
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


def editorial_desk(request):
    """For publishers: what waits for review, and what is incomplete."""
    if not is_publisher(request.user):
        raise PermissionDenied("The editorial desk is for publishers.")
    limit = 100
    excerpts = Excerpt.objects.select_related("mission__organisation", "mission__election", "document")
    missions = Mission.objects.select_related("organisation", "election")
    published = Excerpt.Status.PUBLISHED
    duplicates = (
        Excerpt.objects.values("document", "text").annotate(n=Count("pk")).filter(n__gt=1).values("document", "text")
    )
    duplicate_filter = models.Q()
    for row in duplicates[:limit]:
        duplicate_filter |= models.Q(document=row["document"], text=row["text"])
    sections = [
        ("Missions waiting for review", missions.filter(status=Mission.Status.IN_REVIEW)),
        ("Documents waiting for review", Document.objects.filter(status=Document.Status.IN_REVIEW)),
        ("Excerpts waiting for review", excerpts.filter(status=Excerpt.Status.IN_REVIEW)),
        (
            "Published excerpts that are not public (their document or mission is not published)",
            excerpts.filter(status=published).exclude(document__status=published, mission__status=published),
        ),
        ("Characterisations without a fidelity rating", excerpts.characterisations().filter(fidelity="")),
        (
            "Characterisations without primary excerpts",
            excerpts.characterisations().filter(primary_excerpts__isnull=True),
        ),
        (
            "Published missions without a published excerpt",
            missions.filter(status=published).exclude(pk__in=Excerpt.objects.published().values("mission")),
        ),
        ("Documents without a URL", Document.objects.filter(url="")),
        (
            "Likely duplicates (the same text in the same document)",
            excerpts.filter(duplicate_filter) if duplicate_filter else excerpts.none(),
        ),
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Editorial desk",
        "sections": [
            {
                "title": title,
                "count": queryset.count(),
                "items": [
                    (item, reverse(f"admin:observers_{item._meta.model_name}_change", args=[item.pk]))
                    for item in queryset.order_by("-updated_at")[:limit]
                ],
            }
            for title, queryset in sections
        ],
        "limit": limit,
    }
    return TemplateResponse(request, "admin/observers/desk.html", context)
