import functools
from collections import Counter

import django_filters as filters
from django import forms
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Exists, OuterRef
from django.utils.choices import BaseChoiceIterator
from django_countries import countries

from electionsite.forms import Select

from . import search
from .models import LANGUAGE_CHOICES, Document, Election, Excerpt, Mission, Organisation, Topic
from .ordered import in_key_order, key_columns
from .signals import cached_for_version

YEAR_BOUNDS = {"min_value": 1900, "max_value": 2100}
MAX_TEXT = search.MAX_QUERY_LENGTH


class Prepared(BaseChoiceIterator):
    """Choices that `func` returns ready, as (value, label) pairs of text, iterated as they are.

    Given as a function, a form copies them for each request without copying the choices
    themselves; but Django normalises a function's choices again on every pass over them, one call
    per choice (250 countries, 185 languages), several passes per form."""

    def __init__(self, func):
        self.func = func

    def __iter__(self):
        return iter(self.func())

    def __len__(self):
        return len(self.func())


@functools.cache
def _countries():
    return [(str(code), str(name)) for code, name in countries]


def _languages():
    return LANGUAGE_CHOICES


# The countries, named once per process: django-countries names all 250 again on every pass.
country_choices = Prepared(_countries)
language_choices = Prepared(_languages)


class IntegerFilter(filters.NumberFilter):
    field_class = forms.IntegerField


DIRECTORY_FIELDS = ("pk", "slug", "name", "acronym", "parent_id", "kind")


def organisation_directory():
    """Every organisation's few fields the filters need, read once per record version: lists that
    filter by organisation then need no query to find it, its child bodies, or the form's choices."""

    def read():
        rows = Organisation.objects.order_by("name").values_list(*DIRECTORY_FIELDS)
        return [dict(zip(DIRECTORY_FIELDS, row, strict=True)) for row in rows]

    return cached_for_version("organisation-directory", read, keep=True)


def organisation_choices():
    """(slug, name) of every organisation, for the forms' choice lists."""
    return cached_for_version(
        "organisation-choices",
        # Named as Organisation.__str__ names them (its short name), without making 300 model objects.
        lambda: [(row["slug"], row["acronym"] or row["name"]) for row in organisation_directory()],
        keep=True,
    )


class PreparedChoiceField(forms.ModelChoiceField):
    """A model chosen from choices that `read_choices()` gives ready, (value, label) pairs read once per
    record version (see cached_for_version), rather than from a query for each form shown."""

    read_choices = None

    def _get_choices(self):
        # Read once per form: its widget reads them twice as it renders.
        if getattr(self, "_read_choices", None) is None:
            empty = [] if self.empty_label is None else [("", self.empty_label)]
            self._read_choices = empty + list(type(self).read_choices())
        return self._read_choices

    choices = property(_get_choices, forms.ChoiceField.choices.fset)

    def __deepcopy__(self, memo):
        copied = super().__deepcopy__(memo)
        copied._read_choices = None  # each form reads them afresh
        return copied

    def _set_queryset(self, queryset):
        # The widget reads the choices when it renders (rarely: the form's HTML is cached), not on
        # every copy of the field.
        self._queryset = None if queryset is None else queryset.all()
        self.widget.choices = Prepared(self._get_choices)  # ready pairs: not normalised on every pass

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)


class DirectoryChoiceField(PreparedChoiceField):
    """An organisation chosen by slug, found in the directory rather than by a query."""

    read_choices = staticmethod(organisation_choices)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        for row in organisation_directory():
            if row["slug"] == str(value):
                return Organisation(**row)
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})


class OrganisationFilter(filters.ModelChoiceFilter):
    """An organisation chosen by slug; with `include_children`, its child bodies count too."""

    field_class = DirectoryChoiceField

    def __init__(self, *args, include_children=False, **kwargs):
        kwargs.setdefault("queryset", Organisation.objects.only(*DIRECTORY_FIELDS))
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("empty_label", "Any organisation")
        self.include_children = include_children
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        if self.include_children:
            return qs.filter(**{f"{self.field_name}__in": organisation_family(value)})
        return qs.filter(**{self.field_name: value})


def organisation_family(organisation):
    """The organisation's pk and those of all the bodies below it."""
    children = {}
    for row in organisation_directory():
        children.setdefault(row["parent_id"], []).append(row["pk"])
    family, todo = [], [organisation.pk]
    while todo:
        pk = todo.pop()
        family.append(pk)
        todo.extend(children.get(pk, []))
    return family


# RecordFilterSet.get_form_class()'s: {(filter set class, variant): form class}.
_FORM_CLASSES = {}


class RecordFilterSet(filters.FilterSet):
    """Applies every valid filter and ignores invalid ones, so a bad value never empties the page."""

    # How the list is read, for its pages: the relevance query ("" when not sorted by relevance), and
    # for lists that continue after a sort key (None for the others), which field holds it and which
    # way it runs. Subclasses' filter_queryset() may set them per request.
    relevance_query = ""
    key_field = None
    newest_first = True

    def get_form_class(self):
        """The form class, made once per process (and variant: see form_variant). django-filter makes
        a class, and a field for each filter, for every request (1 ms of each filtered page here);
        the fields' choices are read when a form is shown, afresh for each form, so one class serves
        every request."""
        key = (type(self), self.form_variant())
        form_class = _FORM_CLASSES.get(key)
        if form_class is None:
            form_class = _FORM_CLASSES[key] = self.make_form_class(key[1])
        return form_class

    def form_variant(self):
        """What, beyond the filter set's class, its form class depends on: None, or a hashable value
        that make_form_class() reads."""
        return None

    def make_form_class(self, variant):
        form_class = super().get_form_class()
        for field in form_class.base_fields.values():
            if type(field.widget) is forms.Select:
                # The same widget, its options listed only if a template reads them: the renderer
                # writes them from its choices (see electionsite.forms.Select).
                field.widget.__class__ = Select
        return form_class

    def filter_queryset(self, queryset):
        for name, value in self.form.cleaned_data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    @property
    def values(self):
        """The valid filter values in use ({} when nothing was asked)."""
        if not self.is_bound:
            return {}
        self.form.is_valid()
        return self.form.cleaned_data

    def active(self):
        """(name, label, value shown) for every filter in use with a valid value."""
        if not self.is_bound:
            return []
        self.form.is_valid()
        shown = []
        for name, value in self.form.cleaned_data.items():
            if value in (None, "", False) or name == "sort":
                continue
            field = self.form.fields[name]
            if hasattr(field, "choices") and not isinstance(value, Organisation | Election | Topic | Mission):
                value = dict(field.choices).get(value, value)
            shown.append((name, field.label, value))
        return shown

    def invalid(self):
        """(label, message) for every filter value that was ignored."""
        if not self.is_bound or self.form.is_valid():
            return []
        return [
            (self.form.fields[name].label if name in self.form.fields else name, " ".join(errors))
            for name, errors in self.form.errors.items()
        ]


COUNT_LIMIT = 10_000


def how_many(count):
    """A count for people: exact up to COUNT_LIMIT, “more than 10,000” beyond (counts stop there)."""
    return f"more than {COUNT_LIMIT:,}" if count > COUNT_LIMIT else f"{count:,}"


def sort_filter(choices):
    return filters.ChoiceFilter(label="Sort", choices=choices, method="sort_by", empty_label=None)


class ExcerptFilter(RecordFilterSet):
    q = filters.CharFilter(label="Search", method="search", max_length=MAX_TEXT)
    organisation = OrganisationFilter(label="Organisation", field_name="organisation", include_children=True)
    country = filters.ChoiceFilter(
        label="Country", field_name="country", choices=country_choices, empty_label="Any country"
    )
    election = filters.ModelChoiceFilter(
        label="Election",
        field_name="election",
        queryset=Election.objects.all(),
        to_field_name="slug",
        widget=forms.HiddenInput,
    )
    mission = filters.ModelChoiceFilter(
        label="Mission",
        queryset=Mission.objects.published().select_related("organisation", "election"),
        widget=forms.HiddenInput,
    )
    document = filters.ModelChoiceFilter(
        label="Document", queryset=Document.objects.published(), widget=forms.HiddenInput
    )
    year_from = IntegerFilter(label="From year", field_name="election_date", lookup_expr="year__gte", **YEAR_BOUNDS)
    year_to = IntegerFilter(label="To year", field_name="election_date", lookup_expr="year__lte", **YEAR_BOUNDS)
    stance = filters.ChoiceFilter(choices=Excerpt.Stance, empty_label="Any stance")
    topic = filters.ModelChoiceFilter(
        label="Topic", field_name="topics", queryset=Topic.objects.all(), to_field_name="slug", empty_label="Any topic"
    )
    document_kind = filters.ChoiceFilter(
        label="Document kind", field_name="document_kind", choices=Document.Kind, empty_label="Any kind"
    )
    provenance = filters.ChoiceFilter(
        label="Provenance", field_name="provenance", choices=Document.Provenance, empty_label="Any provenance"
    )
    language = filters.ChoiceFilter(choices=language_choices, empty_label="Any language")
    source = filters.ChoiceFilter(
        label="Whose words",
        choices=[("primary", "Observers' own words"), ("characterisation", "Characterisations by others")],
        method="filter_source",
        empty_label="Anyone's",
    )
    fidelity = filters.ChoiceFilter(choices=Excerpt.Fidelity, empty_label="Any fidelity", method="filter_fidelity")
    headline = filters.BooleanFilter(
        label="Headline conclusions only", method="filter_headline", widget=forms.CheckboxInput
    )
    sort = sort_filter([("newest", "Newest first"), ("oldest", "Oldest first"), ("relevance", "Most relevant")])

    class Meta:
        model = Excerpt
        fields = []

    # Until filter_queryset() sets it; that does not run when no filter is given at all.
    key_field = "sort_key"

    def search(self, queryset, name, value):
        return search.matching(queryset, value) if value.strip() else queryset

    def filter_source(self, queryset, name, value):
        return queryset.characterisations() if value == "characterisation" else queryset.primary()

    def filter_fidelity(self, queryset, name, value):
        # Only a characterisation has a fidelity (Excerpt.clean refuses one elsewhere, and
        # Excerpt.refresh_characterisation_flags clears it from a passage that stops being one):
        # said in the query too, it is read in order from the characterisations' index by fidelity,
        # not found among all the excerpts (at a million, 780 ms to count the first 10,001 on a
        # slow day).
        return queryset.filter(is_characterisation=True, fidelity=value)

    def filter_headline(self, queryset, name, value):
        return queryset.filter(is_headline=True) if value else queryset

    def sort_by(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or "newest"
        query = self.form.cleaned_data.get("q") or ""
        # Relevance orders only the page shown (see search.ranked_ids); counts, facets and exports
        # keep the main order.
        searched = bool(search.terms(query))
        self.relevance_query = query if sort == "relevance" and searched else ""
        self.newest_first = sort != "oldest"
        self.key_field = search.key_field(searched)
        return search.ordered(queryset, searched, newest_first=self.newest_first)

    def describe(self, count):
        """A plain-words summary, e.g. “38 critical excerpts from ODIHR about Kazakhstan”."""
        data = self.values
        words = [how_many(count)]
        if data.get("stance"):
            words.append(Excerpt.Stance(data["stance"]).label.lower())
        if data.get("headline"):
            words.append("headline")
        noun = "excerpt" if count == 1 else "excerpts"
        if data.get("source") == "characterisation":
            noun = "characterisation" if count == 1 else "characterisations"
        elif data.get("source") == "primary":
            noun = f"{noun} in the observers' own words"
        words.append(noun)
        if data.get("fidelity"):
            words.append(f"rated “{Excerpt.Fidelity(data['fidelity']).label.lower()}”")
        if data.get("organisation"):
            words.append(f"from {data['organisation'].short_name}")
        if data.get("mission"):
            words.append(f"from the {data['mission']}")
        if data.get("country"):
            words.append(f"about {countries.name(data['country'])}")
        if data.get("election"):
            words.append(f"on the {data['election']}")
        if data.get("topic"):
            words.append(f"on {data['topic'].name.lower()}")
        if data.get("document_kind"):
            words.append(f"in documents of the kind “{Document.Kind(data['document_kind']).label.lower()}”")
        if data.get("document"):
            words.append(f"in “{data['document']}”")
        if data.get("provenance"):
            words.append(f"from copies of the kind “{Document.Provenance(data['provenance']).label.lower()}”")
        if data.get("language"):
            words.append(f"in {dict(LANGUAGE_CHOICES)[data['language']]}")
        if data.get("year_from") and data.get("year_to"):
            words.append(f"from {data['year_from']} to {data['year_to']}")
        elif data.get("year_from"):
            words.append(f"from {data['year_from']} on")
        elif data.get("year_to"):
            words.append(f"up to {data['year_to']}")
        if (data.get("q") or "").strip():
            words.append(f"matching “{data['q'].strip()}”")
        return " ".join(words)


# The most options a filter's drop-down list offers; beyond, the filter is reached through links.
SELECT_LIMIT = 100


def characterised_elections():
    """(slug, name) of the elections that have a published characterisation, newest first, for the
    characterisation list's drop-down list: at most SELECT_LIMIT + 1 of them, the list being hidden
    when there are more than SELECT_LIMIT (see CharacterisationFilter). Read once per record version,
    in one query: their ids in order from an index of the characterisations by election, each once,
    stopping at the (SELECT_LIMIT + 1)th, and those elections. Counting every such election read all
    45,000 characterisations (45 ms on SQLite at a million excerpts, on a slow day, on every first
    visit after a change); asking whether they were too many, then which, took two queries."""

    def read():
        ids = (
            Excerpt.objects.published()
            .characterisations()
            .exclude(election=None)
            .values("election")
            .order_by("election")
            .distinct()[: SELECT_LIMIT + 1]
        )
        elections = Election.objects.filter(pk__in=ids).order_by("-election_date", "country")
        return [(election.slug, str(election)) for election in elections]

    return cached_for_version("characterised-elections", read, keep=True)


class CharacterisedElectionField(PreparedChoiceField):
    read_choices = staticmethod(characterised_elections)


class CharacterisedElectionFilter(filters.ModelChoiceFilter):
    field_class = CharacterisedElectionField


class CharacterisationFilter(RecordFilterSet):
    fidelity = filters.ChoiceFilter(choices=Excerpt.Fidelity, empty_label="Any fidelity")
    by = OrganisationFilter(label="Characterised by", field_name="document_publisher", empty_label="Anyone")
    about = OrganisationFilter(label="Organisation characterised", field_name="organisation", include_children=True)
    election = CharacterisedElectionFilter(
        label="Election",
        field_name="election",
        # A chosen election is looked up among those with a published characterisation: found by its
        # slug, then asked whether it has one. (As `pk IN (…)`, SQLite read every characterisation's
        # election to make the list first: 6 ms at a million excerpts.)
        queryset=Election.objects.filter(
            Exists(Excerpt.objects.published().characterisations().filter(election=OuterRef("pk")))
        ),
        to_field_name="slug",
        empty_label="Any election",
    )

    class Meta:
        model = Excerpt
        fields = []

    key_field = "sort_key"

    def form_variant(self):
        """Whether the election filter is hidden (see make_form_class): whether more than SELECT_LIMIT
        elections have a published characterisation (see characterised_elections)."""
        return len(characterised_elections()) > SELECT_LIMIT

    def make_form_class(self, hidden):
        form_class = super().make_form_class(hidden)
        if hidden:
            # Thousands of options would cost every visitor the download and the page a second to
            # build. An election's page links to its characterisations instead, and the filter in
            # use shows above the list, where it can be removed.
            form_class.base_fields["election"].widget = forms.HiddenInput()
        return form_class

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).order_by("-sort_key")

    def describe(self, count):
        data = self.values
        words = [how_many(count), "characterisation" if count == 1 else "characterisations"]
        if data.get("fidelity"):
            words.append(f"rated “{Excerpt.Fidelity(data['fidelity']).label.lower()}”")
        if data.get("by"):
            words.append(f"by {data['by'].short_name}")
        if data.get("about"):
            words.append(f"of what {data['about'].short_name} said")
        if data.get("election"):
            words.append(f"on the {data['election']}")
        return " ".join(words)


class ElectionFilter(RecordFilterSet):
    country = filters.ChoiceFilter(choices=country_choices, empty_label="Any country")
    year = IntegerFilter(field_name="election_date", lookup_expr="year", **YEAR_BOUNDS)
    kind = filters.ChoiceFilter(choices=Election.Kind, empty_label="Any kind")
    organisation = OrganisationFilter(
        label="Observed by", field_name="missions__organisation", method="filter_observer"
    )

    class Meta:
        model = Election
        fields = []

    def filter_observer(self, queryset, name, value):
        missions = Mission.objects.published().filter(organisation__in=organisation_family(value))
        return queryset.filter(pk__in=missions.values("election"))

    def describe(self, count):
        data = self.values
        words = [how_many(count)]
        if data.get("kind"):
            words.append(Election.Kind(data["kind"]).label.lower())
        words.append("election" if count == 1 else "elections")
        if data.get("country"):
            words.append(f"in {countries.name(data['country'])}")
        if data.get("year"):
            words.append(f"in {data['year']}")
        if data.get("organisation"):
            words.append(f"observed by {data['organisation'].short_name}")
        return " ".join(words)


class OrganisationListFilter(RecordFilterSet):
    kind = filters.ChoiceFilter(choices=Organisation.Kind, empty_label="Any kind")
    endorser = filters.BooleanFilter(
        field_name="endorsed_declaration",
        label="Endorsed the Declaration of Principles",
        widget=forms.Select(choices=[("", "Either"), ("true", "Yes"), ("false", "No")]),
    )
    parent = OrganisationFilter(label="Part of", field_name="parent", empty_label="Any")

    class Meta:
        model = Organisation
        fields = []

    def describe(self, count):
        data = self.values
        words = [how_many(count), "organisation" if count == 1 else "organisations"]
        if data.get("kind"):
            words.append(f"of the kind “{Organisation.Kind(data['kind']).label.lower()}”")
        if data.get("endorser") is True:
            words.append("that endorsed the Declaration of Principles")
        elif data.get("endorser") is False:
            words.append("that have not endorsed the Declaration of Principles")
        if data.get("parent"):
            words.append(f"within {data['parent'].short_name}")
        return " ".join(words)


class MissionFilter(RecordFilterSet):
    organisation = OrganisationFilter(label="Organisation", field_name="organisation", include_children=True)
    country = filters.ChoiceFilter(
        label="Country", field_name="election__country", choices=country_choices, empty_label="Any country"
    )
    year = IntegerFilter(field_name="election_date", lookup_expr="year", **YEAR_BOUNDS)
    mission_type = filters.ChoiceFilter(label="Type", choices=Mission.Type, empty_label="Any type")
    verdict = filters.ChoiceFilter(choices=Mission.Verdict, empty_label="Any verdict")
    election = filters.ModelChoiceFilter(
        queryset=Election.objects.all(), to_field_name="slug", widget=forms.HiddenInput
    )

    class Meta:
        model = Mission
        fields = []

    def describe(self, count):
        data = self.values
        words = [how_many(count), "mission" if count == 1 else "missions"]
        if data.get("mission_type"):
            words.append(f"of the type “{Mission.Type(data['mission_type']).label.lower()}”")
        if data.get("organisation"):
            words.append(f"by {data['organisation'].short_name}")
        if data.get("country"):
            words.append(f"to {countries.name(data['country'])}")
        if data.get("year"):
            words.append(f"in {data['year']}")
        if data.get("election"):
            words.append(f"at the {data['election']}")
        if data.get("verdict"):
            words.append(f"with the verdict “{Mission.Verdict(data['verdict']).label.lower()}”")
        return " ".join(words)


class DocumentFilter(RecordFilterSet):
    q = filters.CharFilter(label="Title contains", field_name="title", lookup_expr="icontains", max_length=MAX_TEXT)
    kind = filters.ChoiceFilter(choices=Document.Kind, empty_label="Any kind")
    publisher = OrganisationFilter(
        label="Publisher", field_name="publisher", include_children=True, empty_label="Any publisher"
    )
    provenance = filters.ChoiceFilter(choices=Document.Provenance, empty_label="Any provenance")
    language = filters.ChoiceFilter(choices=language_choices, empty_label="Any language")
    year = IntegerFilter(field_name="date", lookup_expr="year", **YEAR_BOUNDS)
    election = filters.ModelChoiceFilter(
        queryset=Election.objects.all(), to_field_name="slug", widget=forms.HiddenInput
    )

    class Meta:
        model = Document
        fields = []

    def describe(self, count):
        data = self.values
        words = [how_many(count)]
        words.append(Document.Kind(data["kind"]).label.lower() + "s" if data.get("kind") else "documents")
        if data.get("publisher"):
            words.append(f"published by {data['publisher'].short_name}")
        if data.get("provenance"):
            words.append(f"({Document.Provenance(data['provenance']).label.lower()})")
        if data.get("language"):
            words.append(f"in {dict(LANGUAGE_CHOICES)[data['language']]}")
        if data.get("year"):
            words.append(f"from {data['year']}")
        if data.get("election"):
            words.append(f"on the {data['election']}")
        if (data.get("q") or "").strip():
            words.append(f"with “{data['q'].strip()}” in the title")
        return " ".join(words)


def facet_counts(queryset, facets, limit=10, *, pinned=None, rows=None):
    """{facet's name: [(value, label, count)]}: each facet's most frequent values among the first
    COUNT_LIMIT rows of the list `queryset` in its order (all of them, in a shorter list), most
    frequent first, then by label. `facets` are the list's (name, field, label field or None).

    `pinned` ({name: value}, see pinned_facets) names facets whose every row has one value, and
    `rows` how many rows are counted (the list's count, at most COUNT_LIMIT): those facets are that
    value `rows` times, without counting. The typical filtered list, `?stance=critical`, counts four
    facets rather than five.

    On PostgreSQL, a list of fewer than COUNT_LIMIT rows (`rows`) is counted whole, and its rows are
    read in no order: at a million excerpts, it read the heaviest publisher family's 9,867 documents
    from the publisher's index and sorted them (7 ms of the facets' 13 ms; 4.5 ms in all unsorted).
    SQLite reads a list in order from an index that orders it and holds the facets' columns, sorting
    nothing (see observers.ordered for a family); read in no order, it chose other indexes, which it
    read whole."""
    pinned = pinned or {}
    if pinned and rows is None:
        raise TypeError("facet_counts() counts no pinned facet without the number of rows")
    counted = {name: [(value, value, rows)] if rows else [] for name, value in pinned.items()}
    rest = [facet for facet in facets if facet[0] not in pinned]
    if rest:
        whole = rows is not None and rows < COUNT_LIMIT and connections[queryset.db].vendor == "postgresql"
        counted |= _first_rows_facet_counts(queryset.order_by() if whole else queryset, rest, limit)
    return {name: counted[name] for name, _, _ in facets}


def pinned_facets(filterset, facets):
    """{facet's name: value} for each of `facets` (see facet_counts) that the filter of the same name
    pins to one value: a choice of the facet's own field, matched exactly, so that every row of the
    list has it. (An organisation's filter includes its member bodies, and a topic's filter leaves
    an excerpt's other topics: neither pins its facet.)"""
    values = filterset.values
    pinned = {}
    for name, field, label_field in facets:
        choice, value = filterset.filters.get(name), values.get(name)
        if (
            label_field is None
            # A text, as the database hands out the field's values (a choice of numbers comes as one).
            and isinstance(value, str)
            and value
            and type(choice) is filters.ChoiceFilter
            and choice.method is None
            and choice.field_name == field
            and choice.lookup_expr == "exact"
            and not choice.exclude
            and value != choice.null_value
        ):
            pinned[name] = value
    return pinned


def _first_rows_facet_counts(queryset, facets, limit):
    """facet_counts() of a list, in one query (two in the rare case of _Joined): the list's first
    COUNT_LIMIT rows are read once, in its order (a list that facet_counts() gives unordered, every
    row), and each facet's values among them counted.

    The index that orders an excerpt list holds every facet's column (see Excerpt.Meta.indexes), so
    the rows come from it alone. At a million excerpts, the facets of `?stance=critical` took 26 ms
    on SQLite and 47 ms on PostgreSQL when its rows were read from the table and counted in Python;
    now about 10 ms and 4 ms of SQL. A grouped count per facet read the same rows once for each: for
    the heaviest publisher's documents, on PostgreSQL, each of the three joined its first rows' ids
    back to the whole table (about 50 ms each on a slow day). A facet of an organisation (an
    excerpt's, a mission's, a document's publisher) is counted by its id and named from the
    directory; an excerpt's topics come from its copy of their ids (Excerpt.topic_ids): joined to
    the links, an excerpt would be read once per topic."""
    model = queryset.model
    groups = []  # per facet: the columns it groups by (a value, and a label when that differs)
    kinds = []  # per facet: how its counted values are named
    for _, field, label_field in facets:
        if model is Excerpt and field.startswith("topics__"):
            groups.append(("topic_ids",))
            kinds.append(_topic_counts)
        elif (organisation := _organisation_key(model, field, label_field)) is not None:
            groups.append((organisation,))
            kinds.append(_organisation_counts)
        else:
            groups.append((field,) if label_field in (None, field) else (field, label_field))
            kinds.append(None)
    paths = list(dict.fromkeys(path for columns in groups for path in columns))
    listed = queryset.prefetch_related(None)
    # An organisation's family is read in the list's order, not sorted (see observers.ordered).
    paths += key_columns(listed, paths)
    first_rows = in_key_order(listed.values_list(*paths)[:COUNT_LIMIT])
    try:
        first, params = first_rows.query.get_compiler(first_rows.db).as_sql()
    except EmptyResultSet:  # a list that can have no rows (a search for nothing searchable)
        return {name: [] for name, _, _ in facets}
    connection = connections[first_rows.db]
    numbered = [[paths.index(path) for path in columns] for columns in groups]
    # The facets whose values SQLite hands over joined (see _counting_sql), and how to read a value.
    whole = {position: field for position, columns in enumerate(groups) if (field := _whole_column(model, columns))}
    try:
        found = _count(connection, *_counting_sql(first, len(paths), numbered, connection, whole), params, len(groups))
    except _Joined:
        # A value holds the separator: the facets counted again, each grouped by the database.
        found = _count(connection, *_counting_sql(first, len(paths), numbered, connection, {}), params, len(groups))
    counted = {}
    for (name, _, _), named, rows in zip(facets, kinds, found, strict=True):
        if named is not None:
            items = named(rows)
        else:
            items = [(value, label, n) for value, label, n in rows if value is not None]
        items.sort(key=lambda item: (-item[2], str(item[1])))
        counted[name] = items[:limit]
    return counted


def _count(connection, sql, read, params, facets):
    """[[(value, label, count)] for each of the `facets` facets]: the rows of the counting `sql`
    (see _counting_sql), each read with `read`."""
    found = [[] for _ in range(facets)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            for position, value, label, n in read(row):
                found[position].append((value, label, n))
    return found


# Between the values of a facet read whole on SQLite (see _counting_sql): the unit separator, which
# no code, id or list of topic ids holds. A value that held it would be found out (_Joined).
SEPARATOR = "\x1f"


class _Joined(Exception):
    """A facet's joined values hold more separators than they have values between them."""


def _organisation_key(model, field, label_field):
    """The column of `model` that holds an organisation's id, when the facet of `field` (with
    `label_field`) is the slug and name of the organisation it links to; or None."""
    name, _, rest = field.partition("__")
    if rest != "slug" or label_field != f"{name}__name":
        return None
    try:
        link = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not link.many_to_one or link.related_model is not Organisation or not link.target_field.primary_key:
        return None
    return link.attname


def _whole_column(model, columns):
    """The model's own field that a facet counts, if it counts one column of the table (not a joined
    table's), whose values SQLite then hands over joined (see _counting_sql); or None."""
    if len(columns) != 1:
        return None
    try:
        field = model._meta.get_field(columns[0])
    except FieldDoesNotExist:
        return None
    own = field.concrete and not field.many_to_many and field.model is model
    return field if own and columns[0] in (field.column, field.attname) else None


def _counting_sql(first, width, groups, connection, whole):
    """The SQL that counts the rows of the query `first` (of `width` columns) per group of its columns
    (`groups` holds each facet's column numbers: a value's, then a label's if it has one), and a
    function that reads one of its rows as (facet's position, value, label, count) for each facet it
    counts.

    PostgreSQL counts every facet in one pass (GROUPING SETS, 4 ms for 10,000 rows where a union of
    grouped counts took 9 ms). SQLite has no grouping sets. The rows are read once (a common table
    expression read more than once is kept); a facet of one of the table's own columns (`whole`:
    {position: its model field}) is then read whole, its values joined into one text by
    group_concat() and counted in Python, and any other grouped and counted by the database. At a
    million excerpts, the four counted facets of `?stance=critical` took 13.6 ms of SQL that way
    against 29.2 ms grouped (on a slow day), and their counting in Python about 6 ms. Only numbered
    names, positions and the separator go into the text; values stay parameters."""
    names = ", ".join(f"c{number}" for number in range(width))
    if connection.vendor == "postgresql":
        # GROUPING(…) has a bit set for each column a row is not grouped by, the first column's highest.
        mask = {}
        for position, columns in enumerate(groups):
            ungrouped = sum(1 << (width - 1 - number) for number in range(width) if number not in columns)
            mask.setdefault(ungrouped, []).append(position)
        sets = ", ".join(
            "(" + ", ".join(f"c{number}" for number in columns) + ")"
            for columns in dict.fromkeys(tuple(sorted(columns)) for columns in groups)
        )
        sql = (
            f"SELECT GROUPING({names}), {names}, COUNT(*) FROM ({first}) AS first ({names}) "  # noqa: S608  # nosec B608
            f"GROUP BY GROUPING SETS ({sets})"
        )

        def read(row):
            cells = row[1:-1]
            for position in mask[row[0]]:
                columns = groups[position]
                yield position, cells[columns[0]], cells[columns[-1]], row[-1]

        return sql, read
    arms = []
    for position, columns in enumerate(groups):
        if position in whole:
            # The values joined, and how many there are (NULLs are left out of both).
            counted = f"c{columns[0]}" if whole[position].null else "*"
            arms.append(
                f"SELECT {position}, group_concat(c{columns[0]}, '{SEPARATOR}'), NULL, "  # noqa: S608  # nosec B608
                f"COUNT({counted}) FROM first"
            )
        else:
            arms.append(
                f"SELECT {position}, c{columns[0]}, c{columns[-1]}, COUNT(*) "  # noqa: S608  # nosec B608
                f"FROM first GROUP BY {', '.join(f'c{number}' for number in columns)}"
            )

    def read(row):
        position = row[0]
        if position not in whole:
            yield row
            return
        joined, n = row[1], row[3]
        # (No values at all: NULL. A column that the schema says holds no NULL and does, counted
        # whole, has fewer values than rows, and is grouped too.)
        values = [] if joined is None else joined.split(SEPARATOR)
        if len(values) != n:
            raise _Joined
        to_python = whole[position].to_python
        for value, count in Counter(values).items():
            value = to_python(value)
            yield position, value, value, count

    return f"WITH first ({names}) AS ({first}) {' UNION ALL '.join(arms)}", read  # noqa: S608  # nosec B608


def _organisation_counts(rows):
    """[(slug, name, count)] of organisations counted by id, named from the directory."""
    names = {row["pk"]: (row["slug"], row["name"]) for row in organisation_directory()}
    if not {pk for pk, _, _ in rows if pk is not None} <= names.keys():
        names = {pk: (slug, name) for pk, slug, name in Organisation.objects.values_list("pk", "slug", "name")}
    return [(*names[pk], n) for pk, _, n in rows if pk in names]


def _topic_counts(rows):
    """[(slug, name, count)] of the topics named in counted copies of topic ids ("3,17"): each distinct
    set split once."""
    counts = Counter()
    for key, _, n in rows:
        for pk in key.split(",") if key else ():
            counts[int(pk)] += n
    labels = topic_labels()
    if not counts.keys() <= labels.keys():
        labels = topic_labels(fresh=True)  # a topic made since they were read
    return [(*labels[pk], n) for pk, n in counts.items() if pk in labels]


def topic_labels(fresh=False):
    """{topic id: (slug, name)}, read once per record version (or now, if `fresh`)."""

    def read():
        return {pk: (slug, name) for pk, slug, name in Topic.objects.values_list("pk", "slug", "name")}

    return read() if fresh else cached_for_version("topic-labels", read, keep=True)
