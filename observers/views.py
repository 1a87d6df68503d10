import datetime
import functools
import hashlib
import json
from collections import defaultdict
from types import MappingProxyType
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from . import citations, export, filters, search
from .definitions import vocabulary
from .export import Column
from .models import Document, Election, Excerpt, Mission, Organisation, Topic, country_name, excerpt_urls
from .ordered import in_key_order
from .signals import cached_for_version, kept_for_version

# Facet counts are a list's heaviest queries and its filter form the slowest to render: both are
# cached under the record's version (see signals.record_version).

LIFECYCLE = {kind: position for position, kind in enumerate(Document.Kind.values)}


def absolute(request, obj_or_path):
    path = obj_or_path if isinstance(obj_or_path, str) else obj_or_path.get_absolute_url()
    return request.build_absolute_uri(path)


# What chooses a page of a list, not its rows.
PAGE_PARAMETERS = ("page", "after")


def _query_without(request, names):
    """A copy of the request's query without the parameters `names`, nor the page (`page`, `after`):
    a changed filter starts from the first page."""
    query = request.GET.copy()
    for name in (*PAGE_PARAMETERS, *names):
        query.pop(name, None)
    return query


def query_with(request, **changes):
    """The current query string with some parameters set (a value) or removed (None); never the page."""
    query = _query_without(request, changes)
    for name, value in changes.items():
        if value is not None:
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def links_with(request, name):
    """A function giving query_with(request, name=value) for any value: for a facet's many links,
    the rest of the query is copied and encoded once."""
    query = _query_without(request, [name])
    rest, encoding = query.urlencode(), query.encoding

    def link(value):
        if value is None:
            return f"?{rest}" if rest else "?"
        # As QueryDict.urlencode() writes a parameter.
        pair = urlencode({name.encode(encoding): str(value).encode(encoding)})
        return f"?{rest}&{pair}" if rest else f"?{pair}"

    return link


def published_excerpts():
    # Not the search index's column: PostgreSQL's is as long as the text, and no page shows it.
    return (
        Excerpt.objects.published()
        .select_related("document__publisher", "mission__organisation", "mission__election")
        .defer("search_document")
    )


# What an excerpt's card (observers/_excerpt.html) shows, and the sort key that continues a list.
CARD_FIELDS = [
    "language", "text", "translation", "translation_status", "stance", "is_headline", "is_characterisation",
    "fidelity", "page", "paragraph", "sort_key", "mission__organisation__name", "mission__organisation__acronym",
    "document__url", "document__author", "document__title", "document__date", "document__publisher__name",
]  # fmt: skip


# What an excerpt shows on an election's or a mission's page, whose missions the page has read
# already: its card's own fields and its document's, and what groups it under its document and
# beside the passages it reports.
PASSAGE_FIELDS = [
    *(field for field in CARD_FIELDS if not field.startswith("mission__")),
    "mission", "document__kind", "fidelity_note",
]  # fmt: skip


def passages_shown(excerpts):
    """`excerpts` read as an election's or a mission's page shows them (see PASSAGE_FIELDS): with their
    documents and publishers, their missions left to the page."""
    return excerpts.select_related(None).select_related("document__publisher").only(*PASSAGE_FIELDS)


# What an election's page shows of each mission (its verdict matrix), and of the mission's
# organisation and verdict passage (the cards of its passages name the organisation too).
MATRIX_FIELDS = [
    "organisation", "mission_type", "head", "core_team", "long_term_observers",
    "short_term_observers", "accredited_observers", "deployed_from", "deployed_to", "verdict", "verdict_excerpt",
    "organisation__name", "organisation__acronym", "organisation__slug", "organisation__endorsed_declaration",
    "verdict_excerpt__text", "verdict_excerpt__language",
]  # fmt: skip


def excerpt_cards(*more):
    """Published excerpts with what their cards show (and the fields `more`), and no more: a list's 25
    rows and their parents otherwise bring every column (the missions' and documents' notes, every
    record's three dates, each parsed)."""
    return (
        Excerpt.objects.published()
        .select_related("document__publisher", "mission__organisation")
        .only(*CARD_FIELDS, *more)
    )


def parse_key(value):
    """A sort key from a “continue after” link, or None if it is not one."""
    try:
        key = int(value)
    except (TypeError, ValueError):
        return None
    return key if -(2**63) < key < 2**63 else None


class BoundedPaginator(Paginator):
    """Counts up to one more than COUNT_LIMIT: an exact count of a million rows is the slowest query."""

    @cached_property
    def count(self):
        # Of the ids alone: a list's annotations (each election's number of missions, a subquery)
        # would otherwise be computed for every row counted.
        return self.object_list.order_by().values("pk")[: filters.COUNT_LIMIT + 1].count()

    def page(self, number):
        page = super().page(number)
        # Its rows read in order, not sorted (see observers.ordered); the slice is still unread.
        if isinstance(page.object_list, QuerySet):
            page.object_list = in_key_order(page.object_list)
        return page


class RecordListView(FilterView):
    """A Datasette-style list: a count with a plain-words summary, one GET form, facets, exports."""

    paginate_by = 25
    paginator_class = BoundedPaginator
    strict = False
    facets = []  # (parameter, field, label field or None)
    export_columns = []
    export_values = None  # (fields, fill(chunk)): export rows of plain values rather than model objects
    export_texts_as_bytes = False  # on SQLite, read an export's texts as bytes (see export.response)
    export_name = ""

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if kwargs["data"] is not None and kwargs["data"].keys() <= set(PAGE_PARAMETERS):
            # Only a page of the whole list is asked for: its rows are the first page's, read without
            # building and checking the filter form (3 ms of a deep page's 18 at a million excerpts).
            kwargs["data"] = None
        return kwargs

    def get(self, request, *args, **kwargs):
        if "format" in kwargs:
            filterset_class = self.get_filterset_class()
            filterset = filterset_class(
                **self.get_filterset_kwargs(filterset_class) | {"queryset": self.get_export_queryset()}
            )
            return export.response(
                filterset.qs,
                self.export_columns,
                kwargs["format"],
                self.export_name,
                values=self.export_values,
                texts_as_bytes=self.export_texts_as_bytes,
            )
        return super().get(request, *args, **kwargs)

    def get_export_queryset(self):
        """The rows an export filters: the list's own, unless the export reads them differently."""
        return self.get_queryset()

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        relevance, key_field = self.filterset.relevance_query, self.filterset.key_field
        if key_field and not relevance and "after" in self.request.GET:
            after = parse_key(self.request.GET["after"])
            if after is not None:
                return self.continue_after(paginator, queryset, page_size, key_field, after)
            self.page_notice = "That link to a later page is not valid; showing the first page."
        asked = self.request.GET.get("page")
        page = paginator.get_page(asked)
        if relevance:
            offset = (page.number - 1) * page_size
            ids = search.ranked_ids(queryset, relevance, offset, page_size, candidates=filters.COUNT_LIMIT)
            # Fetched by id from the unsearched list: joined with the index, they would be looked for
            # among every match.
            rows = self.get_queryset().filter(pk__in=ids).in_bulk()
            page.object_list = [rows[pk] for pk in ids if pk in rows]
        elif key_field and page.has_next():
            # Going on from a page continues after its last row: as fast at any depth as page 1.
            self.next_key = page.object_list[len(page.object_list) - 1].sort_key
        if asked is not None and asked != str(page.number):
            self.page_notice = (
                f"There is no page “{asked[:20]}” of these results; showing page {page.number} "
                f"of {paginator.num_pages}."
            )
        return paginator, page, page.object_list, page.has_other_pages()

    def continue_after(self, paginator, queryset, page_size, key_field, after):
        """A page that continues after a sort key (keyset pagination), without counting rows to skip."""
        lookup = f"{key_field}__lt" if self.filterset.newest_first else f"{key_field}__gt"
        rows = list(in_key_order(queryset.filter(**{lookup: after})[: page_size + 1]))
        more = len(rows) > page_size
        page = paginator._get_page(rows[:page_size], 0, paginator)
        self.continued = True
        if more:
            self.next_key = rows[page_size - 1].sort_key
        return paginator, page, page.object_list, True

    def cached(self, part, make, ignore=(*PAGE_PARAMETERS, "sort")):
        """`make()`, cached per filter combination until the record next changes."""
        query = self.request.GET.copy()
        for name in ignore:
            query.pop(name, None)
        digest = hashlib.sha256(query.urlencode().encode()).hexdigest()
        return cached_for_version(f"{part}:{self.export_name}:{digest}", make)

    def facet_groups(self, queryset, count):
        """The facets, and whether they count only the first COUNT_LIMIT rows of the list.

        Like the list's own count, facets stop at COUNT_LIMIT: beyond it they count the first
        COUNT_LIMIT rows in the list's order, which its indexes (or the search index) hand out
        without reading the rest. Counting a million rows once per facet took seconds."""
        bounded = count > filters.COUNT_LIMIT
        # Which rows come first depends on the sort, so the facets are cached per sort too.
        return self.cached("facets", lambda: self.count_facets(queryset, count), ignore=PAGE_PARAMETERS), bounded

    def filter_form(self, filterset):
        """The filter form's HTML: its long choice lists are slow to render and rarely change."""
        return self.cached(
            "form",
            lambda: render_to_string("observers/_filter_form.html", {"filter": filterset}),
            ignore=PAGE_PARAMETERS,
        )

    def count_facets(self, queryset, count):
        values = self.filterset.values
        groups = []
        pinned = filters.pinned_facets(self.filterset, self.facets)
        counted = filters.facet_counts(queryset, self.facets, pinned=pinned, rows=min(count, filters.COUNT_LIMIT))
        for name, _, label_field in self.facets:
            form_field = self.filterset.form.fields[name]
            current = values.get(name)
            current_key = getattr(current, "slug", current)
            # A choice's label, read once for the facet's values.
            choices = dict(form_field.choices) if label_field is None and name != "country" else {}
            items = []
            link = links_with(self.request, name)
            for value, label, n in counted[name]:
                if name == "country":
                    label = country_name(value)
                elif label_field is None:
                    label = choices.get(value, value)
                active = str(value) == str(current_key)
                items.append(
                    {
                        "label": label,
                        "count": n,
                        "active": active,
                        "url": link(None if active else value),
                    }
                )
            if items:
                groups.append({"name": name, "label": form_field.label, "items": items})
        return groups

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        count = context["paginator"].count if context.get("paginator") else len(context["object_list"])
        facet_groups, facets_bounded = self.facet_groups(self.object_list, count) if self.facets else ([], False)
        query = query_with(self.request)
        context.update(
            summary=filterset.describe(count),
            count_words=filters.how_many(count),
            active_filters=[
                {"label": label, "value": value, "remove_url": query_with(self.request, **{name: None})}
                for name, label, value in filterset.active()
            ],
            invalid_filters=filterset.invalid(),
            page_notice=getattr(self, "page_notice", ""),
            continued=getattr(self, "continued", False),
            next_key=getattr(self, "next_key", None),
            counted_all=count <= filters.COUNT_LIMIT,
            facets_bounded=facets_bounded,
            count_limit=f"{filters.COUNT_LIMIT:,}",
            facet_groups=facet_groups,
            filter_form=self.filter_form(filterset),
            query=query,
            csv_url=reverse(f"observers:{self.export_name}_export", kwargs={"format": "csv"}) + query,
            json_url=reverse(f"observers:{self.export_name}_export", kwargs={"format": "json"}) + query,
        )
        return context


def excerpt_columns():
    """The excerpt export's columns. They read plain values (EXCERPT_VALUES, and what
    add_topics_and_elections adds), which a hundred thousand rows stream far faster as than as model
    objects."""
    return [
        Column("id", "The excerpt's number in the record; its page is /excerpts/<id>/."),
        Column("url", "The excerpt's permanent address."),
        Column("text", "The passage, verbatim, in its original language."),
        Column("language", "ISO 639-1 code of the passage's language.", group="labels"),
        Column("translation", "An English translation, if any."),
        Column("translation_status", "Official, unofficial or editor's translation.", group="labels"),
        Column("stance", "The passage's stance: positive, mixed, critical or neutral.", group="labels"),
        Column("topics", "The topics the passage speaks about.", group="topics"),
        Column("headline", "Whether it is the mission's headline conclusion.", field="is_headline", group="labels"),
        Column(
            "characterisation",
            "Whether it is a third party's characterisation of what the mission said.",
            field="is_characterisation",
            group="labels",
        ),
        Column("fidelity", "For a characterisation: how faithfully it reports the mission.", group="labels"),
        Column("fidelity_note", "The editors' note on the fidelity rating."),
        Column("page", "Page in the document."),
        Column("paragraph", "Paragraph or section in the document."),
        Column("organisation", "The observing organisation.", field="mission__organisation__name", group="mission"),
        Column("mission_type", "The mission's type.", field="mission__mission_type", group="mission"),
        Column("country", "ISO 3166 code of the election's country.", group="mission"),
        Column("election", "The election.", field="election_name", group="mission"),
        Column("election_date", "Election day (YYYY-MM-DD).", group="mission"),
        Column("document", "The document's title.", field="document__title", group="document"),
        Column("document_kind", "The document's kind.", group="document"),
        Column("document_date", "The date the document bears.", group="document"),
        Column("publisher", "The document's publisher.", field="document__publisher__name", group="document"),
        Column("provenance", "Which copy of the document the URL points to.", group="document"),
        Column("document_url", "Where the document can be read.", field="document__url", group="document"),
        Column("archive_url", "An archived copy of the document.", field="document__archive_url", group="document"),
    ]


# An excerpt's codes and flags, of which its rows have few combinations: on SQLite read as one key,
# the group "labels" (see export.ValuesKey), whose columns are written once per combination.
EXCERPT_LABELS = export.ValuesKey(
    "language",
    "translation_status",
    "stance",
    "is_headline",
    "is_characterisation",
    "fidelity",
    flags=("is_headline", "is_characterisation"),
)
# What the excerpt exports read from the excerpt's own row, {name: what to read}: its labels, and the
# ids of its topics, "3,17", from the row's copy of them (see observers.topic_ids). What it has from
# its mission and document comes a chunk at a time (add_parents): joined to every row, the parents
# took longer than reading the rows themselves, and a chunk has only a few dozen of them.
EXCERPT_VALUES = {
    **{name: name for name in ("id", "text", "translation", "fidelity_note", "page", "paragraph")},
    **{name: name for name in ("mission_id", "document_id", "topic_ids")},
    "labels": EXCERPT_LABELS,
}

# {value's name: what the parent's query reads}, dates as text (see export.DateText).
MISSION_VALUES = {
    "mission__mission_type": "mission_type",
    "mission__organisation__name": "organisation__name",
    "election_id": "election_id",
    "country": "election__country",
    "election_date": export.DateText("election__election_date"),
    "election__kind": "election__kind",
    "election__chamber": "election__chamber",
    "election__round": "election__round",
}
DOCUMENT_VALUES = {
    "document__title": "title",
    "document__publisher__name": "publisher__name",
    "document__url": "url",
    "document__archive_url": "archive_url",
    "document_kind": "kind",
    "document_date": export.DateText("date"),
    "provenance": "provenance",
}


# How many missions, and how many documents, an app process keeps of what the exports read of them
# (see add_parents): 10,000 of each took 16 MB at a million excerpts. Also how many sets of topics it
# keeps the names of (see add_topics_and_elections).
KEPT_PARENTS = 10_000


def _split_kept(kept, keys):
    """({key: its value} for those of `keys` that the process keeps in `kept`, and the others)."""
    wanted = set(keys)
    # Each of the chunk's few dozen keys looked up, rather than `kept`'s thousands matched against them.
    found = {key: value for key in wanted if (value := kept.get(key)) is not None}
    return found, wanted - found.keys()


def add_parents(values, kept, derive=None):
    """Per chunk of exported excerpts: what they show of their missions (type, organisation and
    election) and of their documents (title, publisher, kind, date and addresses), one query each, as
    the groups "mission" and "document" (see export.Shared): a chunk has only a few dozen of each.
    `derive`, {group: function}, adds to each parent's values what is made from them.

    Read after the excerpts' rows, from published missions and documents only: one unpublished (or
    deleted) while a long download streams leaves its columns empty rather than showing a draft.

    The process keeps what it read in `kept`, {group: rows} (signals.kept_for_version), with what
    `derive` added: the next export that names the same missions and documents reads only the
    others. Any change to the record through the site, in any process, retires them all (it changes
    the record's version, and again once it is committed), and none is kept longer than the cache
    keeps an entry. Writes that send no signal (raw SQL) retire nothing, as for every cached part of
    the site."""
    derive = derive or {}
    for key, group, model, fields in [
        ("mission_id", "mission", Mission, MISSION_VALUES),
        ("document_id", "document", Document, DOCUMENT_VALUES),
    ]:
        keys, kept_rows = values[key], kept[group]
        rows, missing = _split_kept(kept_rows, keys)
        if missing:
            parents = model.objects.published().filter(pk__in=export.id_list(missing)).order_by()
            found = {
                pk: dict(zip(fields, rest, strict=True))
                for pk, *rest in export.plain_rows(parents, {"pk": "pk", **fields})
            }
            if len(kept_rows) + len(missing) > KEPT_PARENTS:
                kept_rows.clear()
            for pk in missing:
                row = found.get(pk) or dict.fromkeys(fields)
                if group in derive:
                    derive[group](row)
                # Read-only: the exports remember the text they write of it (see export.Shared).
                rows[pk] = kept_rows[pk] = MappingProxyType(row)
        values[group] = (keys, rows)


def _add_election_name(mission):
    mission["election_name"] = election_name(
        mission["election_id"],
        mission["country"],
        mission["election__kind"],
        mission["election__chamber"],
        mission["election_date"],
        mission["election__round"],
    )


def add_topics_and_elections(values):
    """Per chunk of exported excerpts: their parents' columns (add_parents) with their elections'
    names, their addresses, and their topics' names (the group "topics": a chunk's excerpts have only
    a few sets of topics between them). Each set is named once per record version in a process, as
    parents are kept (see add_parents): the next chunks, and the next exports, name the same sets."""
    # What the process keeps, read once for the chunk; the missions' rows with their elections' names.
    missions, documents, kept = kept_for_version("export-mission:election-name", "export-document", "export-topics")
    add_parents(values, {"mission": missions, "document": documents}, derive={"mission": _add_election_name})
    values["url"] = excerpt_urls(values["id"])
    keys = values["topic_ids"]
    sets, missing = _split_kept(kept, keys)
    if missing:
        # Their names and order come from topic_names().
        names = topic_names()
        # The keys are bytes when the export reads its texts as bytes (see export.response).
        ids = {key: list(map(int, key.split(b"," if type(key) is bytes else ","))) if key else [] for key in missing}
        if any(pk not in names for topic_ids in ids.values() for pk in topic_ids):
            names = topic_names(fresh=True)  # a topic made while the export streams
        if len(kept) + len(missing) > KEPT_PARENTS:
            kept.clear()
        for key, topic_ids in ids.items():
            # A topic deleted while the export streams (a change: a new version) is left out of the
            # rows still to come.
            named = MappingProxyType(
                {"topics": [name for _, name in sorted(names[pk] for pk in topic_ids if pk in names)]}
            )
            sets[key] = kept[key] = named
    values["topics"] = (keys, sets)


def topic_names(fresh=False):
    """{topic id: (its place in the order of names, its name)}, read once per record version (or
    now, if `fresh`)."""

    def read():
        rows = Topic.objects.order_by("name").values_list("pk", "name")
        return {pk: (place, name) for place, (pk, name) in enumerate(rows)}

    return read() if fresh else cached_for_version("topic-names", read)


@functools.lru_cache(maxsize=4096)
def election_name(pk, country, kind, chamber, election_date, round):  # noqa: A002  # the field's name
    """str(election), from its values: an export names the same few elections thousands of times.
    None for an excerpt whose mission's columns were left empty (see add_parents)."""
    if pk is None:
        return None
    day = datetime.date.fromisoformat(election_date) if isinstance(election_date, str) else election_date
    election = Election(pk=pk, country=country, kind=kind, chamber=chamber or "", election_date=day)
    election.round = round
    return str(election)


def add_primary_excerpts(values):
    """Per chunk of exported characterisations: the published primary excerpts they report (one query)."""
    add_topics_and_elections(values)
    reported = defaultdict(list)
    links = Excerpt.primary_excerpts.through.objects.filter(
        from_excerpt_id__in=export.id_list(values["id"]), to_excerpt__public=True
    )
    for from_id, to_id in links.order_by("to_excerpt_id").values_list("from_excerpt_id", "to_excerpt_id"):
        reported[from_id].append(to_id)
    values["primary_excerpts"] = [reported.get(pk, []) for pk in values["id"]]


class ExcerptListView(RecordListView):
    filterset_class = filters.ExcerptFilter
    template_name = "observers/excerpt_filter.html"
    facets = [
        ("organisation", "organisation__slug", "organisation__name"),
        ("country", "country", None),
        ("stance", "stance", None),
        ("topic", "topics__slug", "topics__name"),
        ("document_kind", "document_kind", None),
    ]
    export_columns = excerpt_columns()
    export_values = (EXCERPT_VALUES, add_topics_and_elections)
    export_texts_as_bytes = True
    export_name = "excerpt"

    def get_queryset(self):
        # Cards show no topics: only the permalink page does.
        return excerpt_cards()


class CharacterisationListView(RecordListView):
    filterset_class = filters.CharacterisationFilter
    template_name = "observers/characterisation_filter.html"
    facets = [
        ("fidelity", "fidelity", None),
        ("by", "document_publisher__slug", "document_publisher__name"),
        ("about", "organisation__slug", "organisation__name"),
    ]
    export_columns = excerpt_columns() + [
        Column("primary_excerpts", "The ids of the observers' own passages the characterisation claims to report.")
    ]
    export_values = (EXCERPT_VALUES, add_primary_excerpts)
    export_texts_as_bytes = True
    export_name = "characterisation"

    def get_queryset(self):
        # Each beside its primary passages (observers/_comparison.html): cards, and the fidelity note.
        return (
            excerpt_cards("fidelity_note")
            .characterisations()
            .prefetch_related(Prefetch("primary_excerpts", queryset=excerpt_cards()))
        )


def add_countries_and_missions(values):
    """Per chunk of exported elections: their countries' codes and names, and their numbers of
    published missions."""
    values["country_code"] = values["country"]
    values["country_name"] = list(map(country_name, values["country"]))
    counts = published_mission_counts()
    values["missions"] = [counts.get(pk, 0) for pk in values["id"]]


def published_mission_counts():
    """{election id: its number of published missions}, counted once per record version."""
    return cached_for_version(
        "election-mission-counts",
        lambda: dict(Mission.objects.published().order_by().values_list("election").annotate(n=Count("*"))),
    )


def published_missions_of(field):
    """The number of published missions of each listed election or organisation, counted for the
    rows shown (a subquery per row, through the missions' index on `field`), rather than grouping
    every mission of the record and then taking one page of the groups."""
    missions = Mission.objects.published().filter(**{field: OuterRef("pk")}).order_by()
    return Coalesce(Subquery(missions.values(field).annotate(n=Count("*")).values("n")), 0)


class ElectionListView(RecordListView):
    filterset_class = filters.ElectionFilter
    template_name = "observers/election_filter.html"
    facets = [("country", "country", None), ("kind", "kind", None)]
    export_columns = [
        Column("slug", "The election's address: /elections/<slug>/."),
        Column("country", "ISO 3166 code of the country.", field="country_code"),
        Column("country_name", "The country's name."),
        Column("kind", "Parliamentary, presidential, referendum …"),
        Column("chamber", "The chamber or title, if any."),
        Column("election_date", "Election day."),
        Column("round", "The round."),
        Column("early", "Whether it was an early election.", field="is_early"),
        Column("missions", "The number of published missions."),
    ]
    export_values = (
        {
            **{name: name for name in ("id", "slug", "country", "kind", "chamber", "round")},
            "election_date": export.DateText("election_date"),
            "is_early": export.Flag("is_early"),
        },
        add_countries_and_missions,
    )
    export_name = "election"

    def get_queryset(self):
        return Election.objects.annotate(mission_count=published_missions_of("election")).order_by(
            "-election_date", "country"
        )

    def get_export_queryset(self):
        # Plain rows: the export's mission counts come from one grouped count (see add_countries_and_missions).
        return Election.objects.order_by("-election_date", "country")


class OrganisationListView(RecordListView):
    filterset_class = filters.OrganisationListFilter
    template_name = "observers/organisation_filter.html"
    facets = [("kind", "kind", None)]
    export_columns = [
        Column("slug", "The organisation's address: /organisations/<slug>/.", lambda o: o.slug),
        Column("name", "The organisation's name.", lambda o: o.name),
        Column("acronym", "Its acronym.", lambda o: o.acronym),
        Column("kind", "Its kind.", lambda o: o.kind),
        Column("parent", "The body it belongs to.", lambda o: o.parent.name if o.parent else ""),
        Column(
            "endorsed_declaration",
            "Whether it endorsed the Declaration of Principles for International Election Observation.",
            lambda o: o.endorsed_declaration,
        ),
        Column("missions", "The number of its published missions.", lambda o: o.mission_count),
        Column("website", "Its website.", lambda o: o.website),
    ]
    export_name = "organisation"

    def get_queryset(self):
        return (
            Organisation.objects.select_related("parent")
            .annotate(mission_count=published_missions_of("organisation"))
            .order_by("name")
        )


def add_joint_partners(values):
    """Per chunk of exported missions: the names of their joint partners, by name (one query)."""
    links = Mission.joint_partners.through.objects.filter(mission_id__in=export.id_list(values["id"]))
    partners = defaultdict(list)
    for mission_id, name in links.order_by("organisation__name").values_list("mission_id", "organisation__name"):
        partners[mission_id].append(name)
    values["joint_partners"] = [partners.get(pk, []) for pk in values["id"]]


class MissionListView(RecordListView):
    filterset_class = filters.MissionFilter
    template_name = "observers/mission_filter.html"
    facets = [
        ("organisation", "organisation__slug", "organisation__name"),
        ("mission_type", "mission_type", None),
        ("verdict", "verdict", None),
        ("country", "election__country", None),
    ]
    export_columns = [
        Column("id", "The mission's number; its page is /missions/<id>/."),
        Column("organisation", "The observing organisation."),
        Column("mission_type", "The mission's type."),
        Column("election", "The election's slug."),
        Column("country", "ISO 3166 code of the country."),
        Column("election_date", "Election day."),
        Column("head", "Head of mission."),
        Column("core_team", "Core team members, when known."),
        Column("long_term_observers", "Long-term observers, when known."),
        Column("short_term_observers", "Short-term observers, when known."),
        Column("accredited_observers", "Accredited observers, when known."),
        Column("deployed_from", "First day of deployment."),
        Column("deployed_to", "Last day of deployment."),
        Column("verdict", "The coded overall verdict."),
        Column("joint_partners", "Organisations that signed the same statement."),
    ]
    export_values = (
        {
            **{name: name for name in ("id", "mission_type", "head", "core_team", "long_term_observers")},
            **{name: name for name in ("short_term_observers", "accredited_observers", "verdict")},
            "organisation": "organisation__name",
            "election": "election__slug",
            "country": "election__country",
            "election_date": export.DateText("election__election_date"),
            "deployed_from": export.DateText("deployed_from"),
            "deployed_to": export.DateText("deployed_to"),
        },
        add_joint_partners,
    )
    export_name = "mission"

    def get_queryset(self):
        return (
            Mission.objects.published()
            .select_related("organisation", "election")
            .prefetch_related("joint_partners")
            # Newest election first; an election's missions in the order they were recorded: the order
            # of the index mission_list_by_date. (By the organisation's name too, or by the date of
            # the joined election, the whole list had to be sorted on every page.)
            .order_by("-election_date", "-election_id", "pk")
        )

    def get_export_queryset(self):
        # Plain rows: the joint partners come a chunk at a time (see add_joint_partners).
        return self.get_queryset().prefetch_related(None)


def no_election_is_blank(values):
    """Per chunk of exported documents: an empty election for a document about none, not a null."""
    values["election"] = ["" if slug is None else slug for slug in values["election"]]


class DocumentListView(RecordListView):
    filterset_class = filters.DocumentFilter
    template_name = "observers/document_filter.html"
    facets = [
        ("kind", "kind", None),
        ("publisher", "publisher__slug", "publisher__name"),
        ("provenance", "provenance", None),
    ]
    export_columns = [
        Column("id", "The document's number; its page is /documents/<id>/."),
        Column("title", "The document's title."),
        Column("kind", "The document's kind."),
        Column("publisher", "Whose text it is."),
        Column("author", "A named author, if any."),
        Column("date", "The date the text bears."),
        Column("language", "ISO 639-1 code of its language."),
        Column("url", "Where it can be read."),
        Column("archive_url", "An archived copy."),
        Column("provenance", "Which copy the URL points to."),
        Column("election", "The election it concerns (slug)."),
    ]
    export_values = (
        {
            **{name: name for name in ("id", "title", "kind", "author", "language", "url", "archive_url")},
            "provenance": "provenance",
            "publisher": "publisher__name",
            "date": export.DateText("date"),
            "election": "election__slug",
        },
        no_election_is_blank,
    )
    export_name = "document"

    def get_queryset(self):
        return Document.objects.published().select_related("publisher", "election").order_by("-date", "pk")


def record_numbers():
    """The record's size, as the home page and the sitemap give it: counted once per record version."""

    def count():
        # Grouped by the flag, the count reads one small index instead of the table.
        by_source = dict(
            Excerpt.objects.published().order_by().values_list("is_characterisation").annotate(n=Count("*"))
        )
        numbers = {"excerpts": sum(by_source.values()), "characterisations": by_source.get(True, 0)}
        # The missions counted per election and per organisation (counts per value, as a facet's), the
        # groups giving how many elections and organisations they cover.
        by_election = published_mission_counts()
        by_organisation = Mission.objects.published().order_by().values_list("organisation").annotate(n=Count("*"))
        numbers.update(
            missions=sum(by_election.values()), elections=len(by_election), organisations=len(by_organisation)
        )
        return numbers

    return cached_for_version("numbers", count)


class HomeView(TemplateView):
    template_name = "observers/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        missions = Mission.objects.published()
        numbers = record_numbers()
        context.update(
            numbers=numbers,
            recent_excerpts=excerpt_cards().order_by("-published_at", "-pk")[:6],
            recent_elections=Election.objects.filter(Exists(missions.filter(election=OuterRef("pk"))))
            .annotate(mission_count=published_missions_of("election"))
            .order_by("-election_date", "-pk")[:6],
        )
        return context


def with_characterisation_context(excerpts):
    """Attach to each characterisation the mission's headline conclusions it does not report."""
    headlines = defaultdict(list)
    for excerpt in excerpts:
        if excerpt.is_headline and not excerpt.is_characterisation:
            headlines[excerpt.mission_id].append(excerpt)
    for excerpt in excerpts:
        if excerpt.is_characterisation:
            reported = {primary.pk for primary in excerpt.primary_excerpts.all()}
            excerpt.left_out = [h for h in headlines[excerpt.mission_id] if h.pk not in reported]
    return excerpts


class PreviewMixin:
    """Staff see drafts at their public address, under a preview banner; the public gets a 404."""

    def get_queryset(self):
        if self.request.user.is_staff:
            return self.preview_queryset()
        return super().get_queryset()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["preview"] = not self.object.is_public
        return context


class ElectionDetailView(DetailView):
    queryset = Election.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        election = self.object
        passages = Passages(published_excerpts().filter(election=election), election.election_date)
        missions = list(
            Mission.objects.published()
            .filter(election=election)
            .select_related("organisation", "verdict_excerpt")
            .only(*MATRIX_FIELDS)
            .prefetch_related("joint_partners")
            .order_by("organisation__name", "mission_type")
        )
        shown = passages.load(
            [pk for mission in missions for pk in passages.chosen(mission.pk, OWN_WORDS_SHOWN)]
            + passages.characterisations[:CHARACTERISATIONS_SHOWN],
            {mission.pk: mission for mission in missions},
        )
        for mission in missions:
            if mission.verdict_excerpt_id not in passages.published:
                mission.verdict_excerpt = None
            mission.own_words_count = passages.count(mission.pk)
            mission.own_words = passages.by_document(shown, mission.pk)
        context.update(
            missions=missions,
            characterisations=[excerpt for excerpt in shown.values() if excerpt.is_characterisation],
            characterisation_count=len(passages.characterisations),
            own_words_shown=OWN_WORDS_SHOWN,
            excerpt_count=len(passages.published),
        )
        return context


# An election's page shows each mission's headline conclusions and first passages, and the first
# characterisations; a mission's page shows its first passages. The excerpt lists have the rest.
OWN_WORDS_SHOWN = 12
CHARACTERISATIONS_SHOWN = 20
MISSION_PASSAGES_SHOWN = 60


class Passages:
    """The published excerpts of an election or a mission, read in two steps: a few plain values of
    every one (to count them, group them by document and choose which to show), then in full only
    those shown. Documents come in the order of the observation's life (interim before final)."""

    def __init__(self, excerpts, election_date):
        self.excerpts = excerpts
        rows = excerpts.order_by("document_date", "page", "pk").values_list(
            "pk", "mission_id", "document_id", "document_kind", "document_date", "is_characterisation", "is_headline"
        )
        self.published = set()
        self.characterisations = []
        self.own = defaultdict(list)  # mission: [(document order, pk, is_headline)]
        for pk, mission_id, document_id, kind, date, is_characterisation, is_headline in rows:
            self.published.add(pk)
            if is_characterisation:
                self.characterisations.append(pk)
            else:
                order = (LIFECYCLE.get(kind, len(LIFECYCLE)), date or election_date, document_id)
                self.own[mission_id].append((order, pk, is_headline))
        for passages in self.own.values():
            passages.sort(key=lambda passage: passage[0])  # stable: within a document, page order stays

    def count(self, mission_id):
        return len(self.own[mission_id])

    def chosen(self, mission_id, limit):
        """The pks of at most `limit` of the mission's own passages: its headline conclusions first
        chosen, then the others in order."""
        passages = self.own[mission_id]
        if len(passages) <= limit:
            return [pk for _, pk, _ in passages]
        chosen = [pk for _, pk, is_headline in passages if is_headline][:limit]
        for _, pk, _ in passages:
            if len(chosen) >= limit:
                break
            if pk not in chosen:
                chosen.append(pk)
        return chosen

    def load(self, pks, missions):
        """The chosen excerpts as the page shows them, by pk, in the order of `pks`, with
        characterisations' context. Their missions are those of `missions` ({pk: mission, with its
        organisation}), which the page has read already, rather than read again with every excerpt."""
        rows = passages_shown(self.excerpts).filter(pk__in=pks).in_bulk()
        shown = {pk: rows[pk] for pk in pks if pk in rows}
        # The passages a characterisation claims to report, for the characterisations alone: Django
        # prepares a queryset per excerpt it prefetches for.
        characterisations = [excerpt for excerpt in shown.values() if excerpt.is_characterisation]
        primary = passages_shown(published_excerpts())
        prefetch_related_objects(characterisations, Prefetch("primary_excerpts", queryset=primary))
        listed = [*shown.values(), *(p for c in characterisations for p in c.primary_excerpts.all())]
        missing = {excerpt.mission_id for excerpt in listed} - missions.keys()
        if missing:  # a passage reported by a characterisation, from another mission
            missions = missions | Mission.objects.select_related("organisation").in_bulk(missing)
        for excerpt in listed:
            excerpt.mission = missions[excerpt.mission_id]
        with_characterisation_context(list(shown.values()))
        return shown

    def by_document(self, shown, mission_id, only=None):
        """[(document, [excerpt, …])] of the mission's own passages that are shown (and in `only`,
        if given), in order."""
        groups = {}
        for _, pk, _ in self.own[mission_id]:
            if pk in shown and (only is None or pk in only):
                excerpt = shown[pk]
                groups.setdefault(excerpt.document_id, (excerpt.document, []))[1].append(excerpt)
        return list(groups.values())


TIMELINE = 50  # missions on an organisation's page; the mission list has them all
# What the timeline shows of a mission and its election.
TIMELINE_FIELDS = [
    "mission_type", "verdict", "election", "election__slug", "election__country", "election__kind",
    "election__chamber", "election__election_date", "election__round",
]  # fmt: skip


class OrganisationDetailView(DetailView):
    queryset = Organisation.objects.select_related("parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organisation = self.object
        published = Mission.objects.published().filter(organisation=organisation)
        # The chart counts every mission; the timeline shows the latest, and links to them all.
        counts = dict(published.order_by().values_list("verdict").annotate(n=Count("*")))
        missions = list(
            published.select_related("election").only(*TIMELINE_FIELDS).order_by("-election_date", "-pk")[:TIMELINE]
        )
        widest = max(counts.values(), default=0)
        chart = [
            {
                "value": value,
                "label": label,
                "count": counts.get(value, 0),
                "width": round(300 * counts.get(value, 0) / widest) if widest else 0,
                "y": position * 28,
            }
            for position, (value, label) in enumerate([*Mission.Verdict.choices, ("", "Not yet coded")])
        ]
        context.update(
            missions=missions,
            mission_count=sum(counts.values()),
            chart=chart,
            chart_height=len(chart) * 28,
            children=organisation.children.all(),
            characterised=Excerpt.objects.published().characterisations().filter(organisation=organisation).count(),
        )
        return context


class MissionDetailView(PreviewMixin, DetailView):
    queryset = Mission.objects.published().select_related("organisation", "election").prefetch_related("joint_partners")

    def preview_queryset(self):
        return Mission.objects.select_related("organisation", "election").prefetch_related("joint_partners")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        mission = self.object
        passages = Passages(published_excerpts().filter(mission=mission), mission.election.election_date)
        chosen = passages.chosen(mission.pk, MISSION_PASSAGES_SHOWN)
        verdict = [mission.verdict_excerpt_id] if mission.verdict_excerpt_id in passages.published else []
        shown = passages.load(
            chosen + passages.characterisations[:CHARACTERISATIONS_SHOWN] + verdict, {mission.pk: mission}
        )
        mission.verdict_excerpt = shown[verdict[0]] if verdict else None
        context.update(
            own_words=passages.by_document(shown, mission.pk, only=set(chosen)),
            own_words_count=passages.count(mission.pk),
            own_words_shown=MISSION_PASSAGES_SHOWN,
            characterisations=[excerpt for excerpt in shown.values() if excerpt.is_characterisation],
            characterisation_count=len(passages.characterisations),
            documents=mission.documents.published().select_related("publisher"),
        )
        return context


class DocumentDetailView(PreviewMixin, DetailView):
    queryset = Document.objects.published().select_related("publisher", "election")

    def preview_queryset(self):
        return Document.objects.select_related("publisher", "election")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            excerpts=excerpt_cards().filter(document=self.object).order_by("page", "paragraph", "pk"),
            missions=self.object.missions.published().select_related("organisation", "election"),
        )
        return context


class ExcerptDetailView(PreviewMixin, DetailView):
    queryset = published_excerpts().prefetch_related(
        "topics",
        Prefetch("primary_excerpts", queryset=published_excerpts()),
        Prefetch("characterisations", queryset=published_excerpts()),
    )

    def preview_queryset(self):
        return Excerpt.objects.select_related(
            "document__publisher", "mission__organisation", "mission__election"
        ).prefetch_related(*self.queryset._prefetch_related_lookups)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        excerpt = self.object
        url = absolute(self.request, excerpt)
        today = timezone.localdate()
        if excerpt.is_characterisation:
            reported = {primary.pk for primary in excerpt.primary_excerpts.all()}
            excerpt.left_out = list(
                published_excerpts()
                .primary()
                .filter(mission=excerpt.mission, is_headline=True)
                .exclude(pk__in=reported)
            )
        context.update(
            citation=citations.plain(excerpt, url, today),
            json_ld=json.dumps(self.json_ld(excerpt, url), ensure_ascii=False).replace("<", "\\u003c"),
        )
        return context

    def json_ld(self, excerpt, url):
        document = excerpt.document
        creator = {"@type": "Organization", "name": document.publisher.name}
        if document.author:
            creator = {"@type": "Person", "name": document.author}
        quotation = {
            "@context": "https://schema.org",
            "@type": "Quotation",
            "@id": url,
            "url": url,
            "text": excerpt.text,
            "inLanguage": excerpt.language,
            "creator": creator,
            "isPartOf": {
                "@type": "CreativeWork",
                "name": document.title,
                "url": document.url or None,
                "datePublished": document.date.isoformat() if document.date else None,
                "publisher": {"@type": "Organization", "name": document.publisher.name},
            },
        }
        if not excerpt.is_characterisation or excerpt.fidelity in ("", Excerpt.Fidelity.NOT_CHECKED):
            return quotation
        scale = [
            Excerpt.Fidelity.INVERTED,
            Excerpt.Fidelity.MISATTRIBUTED,
            Excerpt.Fidelity.UNSUPPORTED,
            Excerpt.Fidelity.OVERSTATED,
            Excerpt.Fidelity.SELECTIVE,
            Excerpt.Fidelity.ACCURATE,
        ]
        return {
            "@context": "https://schema.org",
            "@type": "ClaimReview",
            "url": url,
            "claimReviewed": excerpt.text,
            "author": {"@type": "Organization", "name": "Election Observation Record"},
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": scale.index(excerpt.fidelity) + 1,
                "bestRating": len(scale),
                "worstRating": 1,
                "alternateName": excerpt.get_fidelity_display(),
                "ratingExplanation": excerpt.fidelity_note or None,
            },
            "itemReviewed": {
                "@type": "Claim",
                "author": creator,
                "appearance": quotation["isPartOf"],
            },
        }


class CitationView(ExcerptDetailView):
    """The excerpt's citation as a BibTeX or RIS file."""

    formats = {
        "bib": (citations.bibtex, "application/x-bibtex; charset=utf-8"),
        "ris": (citations.ris, "application/x-research-info-systems; charset=utf-8"),
    }

    def get(self, request, *args, **kwargs):
        if kwargs["format"] not in self.formats:
            raise Http404("Citations come as .bib or .ris.")
        excerpt = self.get_object()
        render, content_type = self.formats[kwargs["format"]]
        body = render(excerpt, absolute(request, excerpt), timezone.localdate())
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="excerpt-{excerpt.pk}.{kwargs["format"]}"'
        return response


class MethodologyView(TemplateView):
    template_name = "observers/methodology.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            vocabularies=[
                ("Stance", "How an excerpt judges the election.", vocabulary(Excerpt.Stance)),
                ("Verdict", "A mission's overall assessment, coded by the editors.", vocabulary(Mission.Verdict)),
                (
                    "Fidelity",
                    "How faithfully a characterisation reports the observers' own words.",
                    vocabulary(Excerpt.Fidelity),
                ),
                ("Provenance", "Which copy of a document the record links to.", vocabulary(Document.Provenance)),
                ("Mission type", "What kind of observation a mission was.", vocabulary(Mission.Type)),
                ("Document kind", "What kind of text a document is.", vocabulary(Document.Kind)),
                ("Translation status", "Who stands behind a translation.", vocabulary(Excerpt.TranslationStatus)),
                ("Organisation kind", "What kind of body an organisation is.", vocabulary(Organisation.Kind)),
                ("Election kind", "What was elected.", vocabulary(Election.Kind)),
            ],
            topics=Topic.objects.all(),
            exports=[
                ("Excerpts", ExcerptListView.export_columns),
                (
                    "Characterisations (in addition to the excerpt columns)",
                    CharacterisationListView.export_columns[-1:],
                ),
                ("Elections", ElectionListView.export_columns),
                ("Organisations", OrganisationListView.export_columns),
                ("Missions", MissionListView.export_columns),
                ("Documents", DocumentListView.export_columns),
            ],
        )
        return context


class RobotsView(TemplateView):
    template_name = "robots.txt"
    content_type = "text/plain"
