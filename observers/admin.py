from django.contrib import admin
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from .models import Document, Election, Excerpt, Mission, Organisation, Topic

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


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "acronym", "kind", "parent", "endorsed_declaration", "mission_count"]
    list_filter = ["kind", "endorsed_declaration", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "acronym", "slug"]
    prepopulated_fields = {"slug": ["acronym"]}
    autocomplete_fields = ["parent"]
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
class TopicAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "excerpt_count"]
    search_fields = ["name"]
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
class ElectionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "country", "kind", "election_date", "round", "is_early", "mission_count"]
    list_filter = ["kind", "country", "is_early"]
    search_fields = ["chamber", "slug", "notes"]
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
class MissionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "organisation", "election", "mission_type", "head", "verdict", "status"]
    list_filter = ["status", "mission_type", "verdict", "election__country", "election__kind"]
    list_select_related = ["organisation", "election"]
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


class ExcerptInline(ListedChildrenInline):
    model = Excerpt
    fields = ["mission", "text", "language", "stance", "is_headline", "status"]
    autocomplete_fields = ["mission"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("document", "mission__organisation", "mission__election")


@admin.register(Document)
class DocumentAdmin(SimpleHistoryAdmin):
    list_display = ["title", "kind", "publisher", "date", "provenance", "status"]
    list_filter = ["status", "kind", "provenance", "language", ("publisher", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["publisher"]
    search_fields = ["title", "author", "url", "publisher__name", "publisher__acronym"]
    autocomplete_fields = ["publisher", "election", "missions"]
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


@admin.register(Excerpt)
class ExcerptAdmin(SimpleHistoryAdmin):
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
