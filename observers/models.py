import datetime
import functools
import re

from django.conf.locale import LANG_INFO
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.signals import setting_changed
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_countries import countries
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

# ISO 639-1 codes (two letters) with their English names, from Django's own locale table.
LANGUAGE_CHOICES = sorted(
    ((code, info["name"]) for code, info in LANG_INFO.items() if len(code) == 2 and "name" in info),
    key=lambda choice: choice[1],
)

# Public pages link these addresses: only the web's own schemes, never ftp:, javascript: or data:.
web_address = URLValidator(
    schemes=["http", "https"], message="Enter a web address that starts with https:// or http://."
)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PublishableQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Publishable.Status.PUBLISHED)


class Publishable(TimeStamped):
    """A record that is public only once published."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"

    status = models.CharField(
        max_length=12,
        choices=Status,
        default=Status.DRAFT,
        db_index=True,
        help_text="Only published records are shown to the public.",
    )
    published_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the record was last published."
    )

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    # name: (label, statuses it starts from, status it ends in, needs the publish permission)
    TRANSITIONS = {
        "submit": ("Submit for review", ["draft"], "in_review", False),
        "return_to_draft": ("Return to draft", ["in_review"], "draft", False),
        "publish": ("Publish", ["draft", "in_review"], "published", True),
        "unpublish": ("Unpublish", ["published"], "draft", True),
    }

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        elif self.status != self.Status.PUBLISHED:
            self.published_at = None
        super().save(*args, **kwargs)

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def is_public(self):
        """Whether the public can see it; an excerpt also needs its document and mission published."""
        return self.is_published

    @classmethod
    def publish_permission(cls):
        return f"{cls._meta.app_label}.publish_{cls._meta.model_name}"

    def available_transitions(self, user):
        """The transitions this user may apply now: (name, label)."""
        return [
            (name, label)
            for name, (label, sources, _, needs_publisher) in self.TRANSITIONS.items()
            if self.status in sources and (not needs_publisher or user.has_perm(self.publish_permission()))
        ]

    def publish_problems(self):
        """What stands in the way of publishing, in words for editors."""
        return []

    def transition(self, name, user):
        """Apply a workflow transition for `user`, recorded in history; raises if not allowed."""
        if name not in self.TRANSITIONS:
            raise ValidationError(f"There is no step called “{name}”.")
        label, sources, target, needs_publisher = self.TRANSITIONS[name]
        if needs_publisher and not user.has_perm(self.publish_permission()):
            raise PermissionDenied(f"Only publishers can {label.lower()}.")
        if not user.has_perm(f"{self._meta.app_label}.change_{self._meta.model_name}"):
            raise PermissionDenied(f"You cannot change this {self._meta.verbose_name}.")
        if self.status not in sources:
            raise ValidationError(f"“{label}” does not apply to a record that is {self.get_status_display().lower()}.")
        if target == self.Status.PUBLISHED and self.publish_problems():
            raise ValidationError(self.publish_problems())
        self.status = target
        self._change_reason = label
        self._history_user = user
        self.save()


class Organisation(TimeStamped):
    """An observer body, or any other publisher of a document."""

    class Kind(models.TextChoices):
        INTERGOVERNMENTAL = "intergovernmental", "Intergovernmental body"
        PARLIAMENTARY_ASSEMBLY = "parliamentary_assembly", "Parliamentary assembly"
        INTERNATIONAL_NGO = "international_ngo", "International NGO"
        CITIZEN_OBSERVERS = "citizen_observers", "Citizen observer group"
        GOVERNMENT = "government", "Government body"
        ELECTION_COMMISSION = "election_commission", "Election commission"
        NEWS = "news", "News agency or outlet"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, unique=True)
    acronym = models.CharField(max_length=40, blank=True, help_text="Shown in tables, e.g. “ODIHR”.")
    slug = models.SlugField(max_length=80, unique=True, help_text="Part of the public address.")
    kind = models.CharField(max_length=30, choices=Kind, db_index=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The body this one belongs to, e.g. OSCE for ODIHR.",
    )
    country = CountryField(blank=True, help_text="For national bodies; empty for international ones.")
    website = models.URLField(blank=True, validators=[web_address])
    endorsed_declaration = models.BooleanField(
        "endorsed the Declaration of Principles",
        default=False,
        help_text="Endorsed the 2005 Declaration of Principles for International Election Observation.",
    )
    endorsed_declaration_on = models.DateField(
        "date of endorsement", null=True, blank=True, help_text="Leave empty when not known."
    )
    description = models.TextField(blank=True, help_text="Shown on the organisation's public page.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(name="organisation_not_own_parent", condition=~Q(parent=F("pk"))),
            models.CheckConstraint(
                name="organisation_endorsement_date_needs_endorsement",
                condition=Q(endorsed_declaration=True) | Q(endorsed_declaration_on__isnull=True),
            ),
        ]

    def __str__(self):
        return self.short_name

    def get_absolute_url(self):
        return record_url("observers:organisation_detail", "slug", self.slug)

    def clean(self):
        if self.endorsed_declaration_on and not self.endorsed_declaration:
            raise ValidationError({"endorsed_declaration_on": "A date of endorsement needs “endorsed” to be ticked."})
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": "An organisation cannot belong to itself."})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent

    @property
    def short_name(self):
        return self.acronym or self.name


class Topic(models.Model):
    """A subject an excerpt speaks about: a small vocabulary that editors keep."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True, help_text="Shown on the methodology page.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


# What each keyword of the record's addresses carries as it is, by its converter: an id's digits
# (<int:pk>), a slug's ASCII letters, digits, hyphens and underscores (<slug:slug>). reverse() leaves
# them unquoted.
PLAIN_URL_VALUES = {"pk": re.compile(r"[0-9]+"), "slug": re.compile(r"[-a-zA-Z0-9_]+")}
URL_MARKER = "987654321"  # a value that both converters accept


@functools.cache
def _url_parts(name, kwarg, prefix, urlconf):
    """(what comes before, what comes after) the value in the address `name` with the one keyword
    `kwarg`, as reverse() gives it under the script prefix `prefix` and the URLconf `urlconf`: the
    pattern resolved once (reverse() took about a sixth of an organisation's page, which links to 50
    missions and their elections). None if the marker does not split the address in two."""
    parts = reverse(name, kwargs={kwarg: URL_MARKER}, urlconf=urlconf).split(URL_MARKER)
    return tuple(parts) if len(parts) == 2 else None


@receiver(setting_changed)
def _forget_url_parts(*, setting, **kwargs):
    # (A change of script prefix or of a request's URLconf is in the parts' key.)
    if setting == "ROOT_URLCONF":
        _url_parts.cache_clear()


def _current_url_parts(name, kwarg):
    return _url_parts(name, kwarg, get_script_prefix(), get_urlconf())


def record_url(name, kwarg, value):
    """reverse(name, kwargs={kwarg: value}) for one of the record's pages, without resolving its
    pattern again; a value that is not plain (see PLAIN_URL_VALUES) goes through reverse()."""
    parts = _current_url_parts(name, kwarg)
    text = str(value)
    plain = PLAIN_URL_VALUES.get(kwarg)
    if parts is None or plain is None or not plain.fullmatch(text):
        return reverse(name, kwargs={kwarg: value})
    return f"{parts[0]}{text}{parts[1]}"


def excerpt_url(pk):
    """An excerpt's address (lists, exports and the sitemap give thousands)."""
    return record_url("observers:excerpt_detail", "pk", pk)


def excerpt_urls(pks):
    """The addresses of the excerpts `pks`, as excerpt_url gives them, a list at once (an export's)."""
    parts = _current_url_parts("observers:excerpt_detail", "pk")
    if parts is None:
        return list(map(excerpt_url, pks))
    before, after = parts
    return [f"{before}{pk}{after}" for pk in pks]


@functools.lru_cache(maxsize=512)
def country_name(code):
    """A country's name, looked up once: django-countries translates it again on every call."""
    return countries.name(code)


@functools.lru_cache(maxsize=8192)
def long_date(date):
    """“20 March 2016”, formatted once per date: every election names itself by its date."""
    return date_format(date, "j F Y")


class Election(TimeStamped):
    class Kind(models.TextChoices):
        PARLIAMENTARY = "parliamentary", "Parliamentary"
        PRESIDENTIAL = "presidential", "Presidential"
        REFERENDUM = "referendum", "Referendum"
        LOCAL = "local", "Local"
        REGIONAL = "regional", "Regional"
        OTHER = "other", "Other"

    country = CountryField(db_index=True)
    kind = models.CharField(max_length=20, choices=Kind)
    chamber = models.CharField("chamber or title", max_length=120, blank=True, help_text="For example “Mazhilis”.")
    election_date = models.DateField("election day")
    round = models.PositiveSmallIntegerField(default=1)
    is_early = models.BooleanField("early election", default=False)
    slug = models.SlugField(max_length=120, unique=True, help_text="Part of the public address.")
    notes = models.TextField(blank=True, help_text="Shown on the election's public page.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-election_date", "country"]
        # Newest first: the election list, and the mission list (its missions election by election).
        indexes = [models.Index(fields=["-election_date", "-id"], name="election_by_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "kind", "election_date", "round"],
                name="election_unique_country_kind_date_round",
                violation_error_message="This election is already in the record.",
            ),
            models.CheckConstraint(
                name="election_round_positive",
                condition=Q(round__gte=1),
                violation_error_message="The round is 1 or more.",
            ),
        ]

    def __str__(self):
        title = f"{country_name(self.country.code)} {self.get_kind_display().lower()}"
        if self.chamber:
            title += f" ({self.chamber})"
        title += f", {long_date(self.election_date)}"
        if self.round > 1:
            title += f", round {self.round}"
        return title

    def get_absolute_url(self):
        return record_url("observers:election_detail", "slug", self.slug)


class Mission(Publishable):
    """One organisation's observation of one election."""

    class Type(models.TextChoices):
        EOM = "eom", "Election observation mission"
        LIMITED_EOM = "limited_eom", "Limited election observation mission"
        ASSESSMENT = "assessment", "Election assessment mission"
        EXPERT_TEAM = "expert_team", "Election expert team"
        NEEDS_ASSESSMENT = "needs_assessment", "Needs-assessment mission"
        PARLIAMENTARY_DELEGATION = "parliamentary_delegation", "Parliamentary delegation"
        OTHER = "other", "Other observation"

    class Verdict(models.TextChoices):
        ENDORSED = "endorsed", "Endorsed"
        ENDORSED_WITH_RESERVATIONS = "endorsed_with_reservations", "Endorsed with reservations"
        MIXED = "mixed", "Mixed"
        CRITICAL = "critical", "Critical"
        STRONGLY_CRITICAL = "strongly_critical", "Strongly critical"
        NO_PUBLIC_ASSESSMENT = "no_public_assessment", "No public assessment"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="missions")
    election = models.ForeignKey(Election, on_delete=models.PROTECT, related_name="missions")
    mission_type = models.CharField("type", max_length=30, choices=Type)
    joint_partners = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="joint_missions",
        help_text="Other organisations that signed the same statement.",
    )
    head = models.CharField("head of mission", max_length=200, blank=True)
    core_team = models.PositiveIntegerField(
        "core team", null=True, blank=True, help_text="Leave empty when the sources do not say."
    )
    long_term_observers = models.PositiveIntegerField(
        "long-term observers", null=True, blank=True, help_text="Leave empty when the sources do not say."
    )
    short_term_observers = models.PositiveIntegerField(
        "short-term observers", null=True, blank=True, help_text="Leave empty when the sources do not say."
    )
    accredited_observers = models.PositiveIntegerField(
        "accredited observers",
        null=True,
        blank=True,
        help_text="As accredited by the election authority. Leave empty when the sources do not say.",
    )
    deployed_from = models.DateField(null=True, blank=True)
    deployed_to = models.DateField(null=True, blank=True)
    verdict = models.CharField(
        max_length=30,
        choices=Verdict,
        blank=True,
        help_text="The mission's overall assessment, coded. Leave empty until it is coded.",
    )
    verdict_excerpt = models.ForeignKey(
        "Excerpt",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The mission's own words that justify the verdict.",
    )
    notes = models.TextField(blank=True, help_text="Shown publicly under the mission.")
    sources = models.TextField(
        blank=True, help_text="Where the head, numbers and dates come from: one reference per line."
    )
    # A copy of the election's day, kept in sync (save() and sync_copies()): the
    # public list reads its missions in this order from one index, where joining every published
    # mission to its election and sorting them took 33–90 ms at 20,000 missions on SQLite.
    election_date = models.DateField(
        null=True, editable=False, help_text="The election's day, copied for the order of the public list."
    )

    history = HistoricalRecords(m2m_fields=[joint_partners])

    class Meta:
        ordering = ["-election__election_date", "organisation__name"]
        permissions = [("publish_mission", "Can publish and unpublish missions")]
        indexes = [
            # The public list: newest election first, an election's missions in the order they were
            # recorded. Not partial: SQLite uses a partial index only for a condition written as its
            # own, and the list's status comes as a parameter. With the facets' own columns, its first
            # 10,000 rows are read in order from it alone: PostgreSQL read and sorted every mission.
            models.Index(
                fields=["status", "-election_date", "-election", "id", "organisation", "mission_type", "verdict"],
                name="mission_list_by_date",
            ),
            # An organisation's page: its latest missions, read in order too.
            models.Index(fields=["organisation", "status", "-election_date", "-id"], name="mission_org_by_date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "election", "mission_type"],
                name="mission_unique_organisation_election_type",
                violation_error_message="This organisation already has a mission of this type at this election.",
            ),
            models.CheckConstraint(
                name="mission_deployment_in_order",
                condition=Q(deployed_from__isnull=True)
                | Q(deployed_to__isnull=True)
                | Q(deployed_to__gte=F("deployed_from")),
                violation_error_message="The deployment ends before it starts.",
            ),
            models.CheckConstraint(
                name="mission_observer_numbers_not_negative",
                condition=(
                    (Q(core_team__isnull=True) | Q(core_team__gte=0))
                    & (Q(long_term_observers__isnull=True) | Q(long_term_observers__gte=0))
                    & (Q(short_term_observers__isnull=True) | Q(short_term_observers__gte=0))
                    & (Q(accredited_observers__isnull=True) | Q(accredited_observers__gte=0))
                ),
                violation_error_message="Observer numbers cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.organisation.short_name} {self.get_mission_type_display().lower()}, {self.election}"

    def save(self, *args, **kwargs):
        if self.election_id is not None:
            self.election_date = self.election.election_date
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"election", "election_id"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "election_date"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return record_url("observers:mission_detail", "pk", self.pk)

    @classmethod
    def sync_copies(cls, missions):
        """Refresh the election's day copied onto `missions` (a queryset) in one UPDATE, after an
        election changed or rows were loaded as they are."""
        day = Election.objects.filter(pk=models.OuterRef("election_id")).values("election_date")[:1]
        missions.update(election_date=models.Subquery(day))

    def clean(self):
        if self.verdict_excerpt_id and self.pk and self.verdict_excerpt.mission_id != self.pk:
            raise ValidationError({"verdict_excerpt": "The verdict must be justified by an excerpt of this mission."})

    def quality_warnings(self):
        if not self.excerpts.published().exists():
            return ["This mission has no published excerpt yet: its own words are missing from the record."]
        return []

    @property
    def days_deployed(self):
        if self.deployed_from and self.deployed_to:
            return (self.deployed_to - self.deployed_from).days + 1
        return None

    def signatory_ids(self):
        """The organisation and its joint partners: whose documents are this mission's own words."""
        return {self.organisation_id, *(partner.pk for partner in self.joint_partners.all())}


class Document(Publishable):
    """A dated text: an observer's report or statement, or a third party's text about one."""

    class Kind(models.TextChoices):
        # In the order of a mission's life; election pages list documents in this order.
        NEEDS_ASSESSMENT = "needs_assessment", "Needs-assessment report"
        INTERIM = "interim", "Interim report"
        PRELIMINARY = "preliminary", "Statement of preliminary findings and conclusions"
        FINAL = "final", "Final report"
        PRESS_RELEASE = "press_release", "Press release"
        PRESS_CONFERENCE = "press_conference", "Press conference"
        OP_ED = "op_ed", "Op-ed or comment"
        NEWS = "news", "News report"
        OTHER = "other", "Other"

    class Provenance(models.TextChoices):
        OWN_COPY = "own_copy", "Publisher's own copy"
        OFFICIAL_REPRINT = "official_reprint", "Official reprint"
        NEWS_RENDERING = "news_rendering", "News-agency rendering"
        MIRROR = "mirror", "Mirror"

    title = models.CharField(max_length=400)
    kind = models.CharField(max_length=20, choices=Kind, db_index=True)
    publisher = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="documents",
        help_text=(
            "Whose text this is. A news agency's rendering of a mission's statement keeps the "
            "mission's organisation here and says so under provenance."
        ),
    )
    author = models.CharField(max_length=200, blank=True, help_text="A named person, where the text has one.")
    date = models.DateField(null=True, blank=True, help_text="The date the text bears. Leave empty when not known.")
    language = models.CharField(max_length=2, choices=LANGUAGE_CHOICES, default="en")
    url = models.URLField(
        "URL", max_length=500, blank=True, validators=[web_address], help_text="Where the text can be read."
    )
    archive_url = models.URLField(
        "archive URL", max_length=500, blank=True, validators=[web_address], help_text="A stable archived copy."
    )
    provenance = models.CharField(
        max_length=20,
        choices=Provenance,
        default=Provenance.OWN_COPY,
        help_text="Which copy of the text the URL points to.",
    )
    election = models.ForeignKey(
        Election,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        help_text="The election the text concerns.",
    )
    missions = models.ManyToManyField(
        Mission, blank=True, related_name="documents", help_text="The missions the text concerns."
    )
    notes = models.TextField(blank=True, help_text="Shown publicly with the document.")

    history = HistoricalRecords(m2m_fields=[missions])

    class Meta:
        ordering = ["-date", "title"]
        permissions = [("publish_document", "Can publish and unpublish documents")]
        indexes = [
            # The public document list's order, over published documents only.
            models.Index(fields=["-date", "id"], condition=Q(status="published"), name="document_published_by_date"),
            # A kind's published documents in that order, with the list's other facets' columns.
            models.Index(
                fields=["kind", "-date", "id", "publisher", "provenance", "status"],
                condition=Q(status="published"),
                name="document_published_kind",
            ),
            # A publisher's published documents in that order, with the list's other facets: the
            # heaviest publisher's 8,000 documents were sorted for every page and read three times
            # more, in order, for its facets (see observers.ordered for a family of publishers).
            models.Index(
                fields=["publisher", "-date", "id", "kind", "provenance", "status"],
                condition=Q(status="published"),
                name="document_published_publisher",
            ),
            # The admin's order (the model's, then the newest first): its list, searched or filtered,
            # reads documents in order and stops at a page, instead of sorting every match.
            models.Index(fields=["-date", "title", "-id"], name="document_by_date_title"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["url"],
                condition=~Q(url=""),
                name="document_unique_url",
                violation_error_message="Another document already has this URL.",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return record_url("observers:document_detail", "pk", self.pk)

    def quality_warnings(self):
        if not self.url:
            return ["This document has no URL: readers cannot check the source."]
        return []


# An excerpt's place in the record's main order (newest document first, then newest excerpt) as one
# integer: the document's day number times 2³², plus the excerpt's id. One indexed column is what
# lets deep pages continue from a key instead of counting rows, and on SQLite it is also the row key
# of the full-text index, which therefore returns its matches already in this order.
SORT_EPOCH = datetime.date(1900, 1, 1)
SORT_DAY = 2**32


def make_sort_key(date, pk):
    if isinstance(date, str):  # as a form or a test may have set it, before the database parses it
        date = datetime.date.fromisoformat(date)
    return ((date - SORT_EPOCH).days if date else 0) * SORT_DAY + pk


class DayNumber(models.Func):
    """Days since SORT_EPOCH of a date expression, 0 for none: SQL twin of make_sort_key()'s first part."""

    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="COALESCE(CAST(julianday(%(expressions)s) - julianday('1900-01-01') AS INTEGER), 0)",
            **extra_context,
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="COALESCE((%(expressions)s - DATE '1900-01-01'), 0)", **extra_context
        )


class SearchDocument(models.Func):
    """What PostgreSQL's full-text index holds for an excerpt: its text and translation as a tsvector.

    Stored in a generated column, so that a search checks a row without parsing its text again.
    SQLite has its own index (observers/search.py): there the column stays empty.
    """

    output_field = SearchVectorField()

    def __init__(self):
        super().__init__(models.F("text"), models.F("translation"))

    def as_sql(self, compiler, connection, **extra_context):
        return "NULL", []

    def as_postgresql(self, compiler, connection, **extra_context):
        text, translation = (compiler.compile(expression) for expression in self.get_source_expressions())
        sql = f"to_tsvector('simple'::regconfig, {text[0]} || ' ' || {translation[0]})"
        return sql, [*text[1], *translation[1]]


class IndexText(models.TextField):
    """The FTS5 table's hidden column named like the table, which `MATCH` queries take."""


@IndexText.register_lookup
class Matches(models.Lookup):
    lookup_name = "fts"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class SearchEntry(models.Model):
    """SQLite only: a row of the full-text index (an FTS5 table, see observers/search.py).

    Joined to its excerpt on the sort key, so that a search reads the index in the list's order and
    stops as soon as a page is full.
    """

    excerpt = models.OneToOneField(
        "Excerpt",
        to_field="sort_key",
        db_column="rowid",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="search_entry",
    )
    # The same row key under its other name: ordering by it is what FTS5 can serve from the index.
    key = models.BigIntegerField(db_column="oid")
    match = IndexText(db_column="observers_excerpt_fts")
    rank = models.FloatField()

    class Meta:
        managed = False
        db_table = "observers_excerpt_fts"

    def __str__(self):
        return f"Index entry {self.key}"


class ExcerptQuerySet(PublishableQuerySet):
    def published(self):
        """Published excerpts whose document and mission are published too."""
        return self.filter(public=True)

    def characterisations(self):
        return self.filter(is_characterisation=True)

    def primary(self):
        return self.filter(is_characterisation=False)


# The excerpt list's facets' own columns (views.ExcerptListView.facets), held by its ordering indexes.
FACET_COLUMNS = ["organisation", "country", "stance", "document_kind", "topic_ids"]


class Excerpt(Publishable):
    """A passage about one mission's assessment, as it appears in one document."""

    class Stance(models.TextChoices):
        POSITIVE = "positive", "Positive"
        MIXED = "mixed", "Mixed"
        CRITICAL = "critical", "Critical"
        NEUTRAL = "neutral", "Neutral"

    class TranslationStatus(models.TextChoices):
        OFFICIAL = "official", "Official translation"
        UNOFFICIAL = "unofficial", "Unofficial translation"
        EDITOR = "editor", "Editor's translation"

    class Fidelity(models.TextChoices):
        ACCURATE = "accurate", "Accurate"
        SELECTIVE = "selective", "Selective"
        OVERSTATED = "overstated", "Overstated"
        INVERTED = "inverted", "Inverted"
        MISATTRIBUTED = "misattributed", "Misattributed"
        UNSUPPORTED = "unsupported", "Unsupported"
        NOT_CHECKED = "not_checked", "Not yet checked"

    mission = models.ForeignKey(
        Mission,
        on_delete=models.PROTECT,
        related_name="excerpts",
        help_text="The mission whose assessment the passage is about.",
    )
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="excerpts")
    text = models.TextField(help_text="Verbatim, in the original language.")
    language = models.CharField(max_length=2, choices=LANGUAGE_CHOICES, default="en")
    translation = models.TextField(blank=True, help_text="An English translation, when the text is not English.")
    translation_status = models.CharField(max_length=12, choices=TranslationStatus, blank=True)
    page = models.CharField(max_length=20, blank=True, help_text="Page in the document, as printed.")
    paragraph = models.CharField(max_length=20, blank=True, help_text="Paragraph or section in the document.")
    stance = models.CharField(max_length=10, choices=Stance)
    topics = models.ManyToManyField(Topic, blank=True, related_name="excerpts")
    is_headline = models.BooleanField(
        "headline conclusion", default=False, help_text="The mission's overall conclusion in this document."
    )
    is_characterisation = models.BooleanField(
        "characterisation",
        default=False,
        editable=False,
        help_text=(
            "Set automatically: the document's publisher is neither the mission's organisation nor a joint partner."
        ),
    )
    primary_excerpts = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="characterisations",
        help_text="For a characterisation: the mission's own passages it claims to report.",
    )
    fidelity = models.CharField(
        max_length=15,
        choices=Fidelity,
        blank=True,
        help_text="For a characterisation: how faithfully it reports the primary passages.",
    )
    fidelity_note = models.TextField(blank=True, help_text="Shown publicly beside the fidelity rating.")

    # Copies of what public lists filter and sort on, taken from the mission and the document and kept
    # in sync (save() and sync_copies()): a million-row join on every list page is what they spare.
    public = models.BooleanField(
        default=False, editable=False, help_text="Published, with its document and mission published too."
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, editable=False, related_name="+"
    )
    election = models.ForeignKey(Election, on_delete=models.PROTECT, null=True, editable=False, related_name="+")
    # Whose text the excerpt is from (the document's publisher): a characterisation's author, by which
    # the characterisation list filters and counts. A copy, as the others, but without a constraint of
    # the database: an organisation that published a document cannot be deleted (Document.publisher),
    # and neither a deletion nor the database's own check need look for excerpts through the copy.
    document_publisher = models.ForeignKey(
        Organisation,
        on_delete=models.DO_NOTHING,
        null=True,
        editable=False,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    country = models.CharField(max_length=2, blank=True, editable=False)
    election_date = models.DateField(null=True, editable=False)
    document_date = models.DateField(null=True, editable=False)
    document_kind = models.CharField(max_length=20, blank=True, editable=False)
    provenance = models.CharField(max_length=20, blank=True, editable=False)
    sort_key = models.BigIntegerField(
        unique=True, null=True, editable=False, help_text="The document's day number × 2³² + the excerpt's id."
    )
    search_document = models.GeneratedField(
        expression=SearchDocument(), output_field=SearchVectorField(), db_persist=True
    )
    # For the editorial desk's likely duplicates, which would otherwise take a pass over every excerpt:
    # set by save() on the excerpt and on the others of its document with the same text. It stays set
    # when the other one changes or goes, so the desk checks the flagged ones against each other.
    maybe_duplicate = models.BooleanField(
        default=False, editable=False, help_text="Saved with the same text as another excerpt of its document."
    )
    # Its topics' ids, for the exports: kept by the database from the topic links, whatever writes them
    # (see observers.topic_ids).
    topic_ids = models.TextField(
        default="", editable=False, help_text="Its topics' ids, e.g. “3,17”: kept by the database from its topics."
    )

    objects = ExcerptQuerySet.as_manager()

    # For a characterisation, the mission's headline conclusions it does not report, where a page looks
    # for them (the excerpt's page, an election's): empty elsewhere. A template asking for a missing
    # attribute costs Django a dir() of the whole object, 25 times on each page of characterisations.
    left_out = ()
    history = HistoricalRecords(
        m2m_fields=[topics, primary_excerpts], excluded_fields=["search_document", "maybe_duplicate", "topic_ids"]
    )

    class Meta:
        ordering = ["-sort_key"]
        permissions = [("publish_excerpt", "Can publish and unpublish excerpts")]
        # Each index serves an ordering, a filter or a facet of the public pages. They are partial
        # (published rows only), which is also what lets the planner read them in order for
        # `WHERE public ORDER BY sort_key DESC` instead of sorting. Those that order the excerpt list
        # also hold every column its facets count, after the sort key, and `public` (SQLite reads the
        # table for a column of the query's condition that the index lacks, even its own condition's):
        # a list's facets then read its first rows from the index alone (see
        # filters._first_rows_facet_counts).
        indexes = [
            models.Index(
                fields=[*key, "-sort_key", *(column for column in FACET_COLUMNS if column not in key), "public"],
                condition=Q(public=True),
                name=name,
            )
            for key, name in [
                ([], "excerpt_public_by_key"),
                (["organisation"], "excerpt_public_org_key"),
                (["country"], "excerpt_public_country_key"),
                (["stance"], "excerpt_public_stance_key"),
                (["election"], "excerpt_public_election_key"),
                (["document_kind"], "excerpt_public_kind_key"),
                (["is_characterisation"], "excerpt_public_source_key"),
                (["organisation", "stance"], "excerpt_public_org_stance_key"),
                (["country", "stance"], "excerpt_public_cty_stance_key"),
                (["organisation", "country"], "excerpt_public_org_cty_key"),
                (["organisation", "document_kind"], "excerpt_public_org_kind_key"),
                (["language"], "excerpt_public_lang_key"),
            ]
        ] + [
            models.Index(fields=["-published_at", "-id"], condition=Q(public=True), name="excerpt_public_by_published"),
            # Headline conclusions only: a few in a hundred excerpts, which the list's own index hands
            # out among all the others (for its count, 435,000 rows read to find 10,001). With the
            # flag itself, which SQLite otherwise reads from the table (see above).
            models.Index(
                fields=["-sort_key", *FACET_COLUMNS, "is_headline", "public"],
                condition=Q(public=True, is_headline=True),
                name="excerpt_public_headline_key",
            ),
            # An organisation's headline conclusions: by the statistics' average (3,000 excerpts an
            # organisation), the planner would otherwise search the heaviest's 150,000 for them.
            models.Index(
                fields=["organisation", "-sort_key", *FACET_COLUMNS[1:], "is_headline", "public"],
                condition=Q(public=True, is_headline=True),
                name="excerpt_public_org_headline",
            ),
            models.Index(
                fields=["is_characterisation", "election"], condition=Q(public=True), name="excerpt_public_source_elect"
            ),
            models.Index(
                fields=["is_characterisation", "organisation"],
                condition=Q(public=True),
                name="excerpt_public_source_org",
            ),
            # The characterisation list and its fidelity filter: partial indexes whose condition is the
            # query's own, which SQLite's planner prefers even without statistics on their skew.
            models.Index(
                fields=["-sort_key"], condition=Q(public=True, is_characterisation=True), name="excerpt_public_char_key"
            ),
            models.Index(
                fields=["fidelity", "-sort_key"],
                condition=Q(public=True, is_characterisation=True),
                name="excerpt_public_char_fidelity",
            ),
            # An organisation's page counts the characterisations of its missions. The flag is written
            # bare in the query (`AND "is_characterisation"`), which SQLite's planner matches to an
            # index's condition but never to an index's column: counting the heaviest organisation's
            # through its own index read 150,000 rows of the table (41 ms at a million excerpts).
            # With the sort key, it also orders the characterisations about an organisation (see
            # observers.ordered).
            models.Index(
                fields=["organisation", "-sort_key"],
                condition=Q(public=True, is_characterisation=True),
                name="excerpt_public_char_org_key",
            ),
            # The characterisations by an author (a document's publisher), in the list's order, with
            # the list's facets' columns.
            models.Index(
                fields=["document_publisher", "-sort_key", "fidelity", "organisation", "is_characterisation", "public"],
                condition=Q(public=True, is_characterisation=True),
                name="excerpt_public_char_by_key",
            ),
            # The elections that have characterisations, in order, each once: whether there are more
            # than the characterisation list's form offers (filters.CharacterisationFilter).
            models.Index(
                fields=["election", "is_characterisation", "public"],
                condition=Q(public=True, is_characterisation=True),
                name="excerpt_public_char_election",
            ),
            # The editors' admin: its language filter.
            models.Index(fields=["language"], name="excerpt_language"),
            # The editorial desk's lists of excerpts, each counted and read in order from an index of
            # its own rows alone: with the id for PostgreSQL, with the condition's columns for SQLite
            # (which otherwise reads the table, or prefers the status index); and its maybe duplicates,
            # looked up by document. An earlier index of characterisations by change date took the
            # public characterisation list away from excerpt_public_source_key on SQLite, which then
            # sorted it; the list now reads excerpt_public_char_key, whose condition is its own, and
            # keeps to it beside this one.
            models.Index(
                fields=["-updated_at", "-id", "status", "public"],
                condition=Q(status="published", public=False),
                name="excerpt_published_hidden",
            ),
            models.Index(
                fields=["-updated_at", "-id", "fidelity", "is_characterisation"],
                condition=Q(is_characterisation=True),
                name="excerpt_characterised_desk",
            ),
            models.Index(fields=["document"], condition=Q(maybe_duplicate=True), name="excerpt_maybe_duplicate"),
            # The desk's published missions without a public excerpt: whether a mission has one, read
            # from this index alone rather than from the excerpts' rows.
            models.Index(fields=["mission"], condition=Q(public=True), name="excerpt_public_mission"),
        ]
        constraints = [
            models.CheckConstraint(
                name="excerpt_translation_needs_status",
                condition=Q(translation="") | ~Q(translation_status=""),
                violation_error_message="Say whether the translation is official, unofficial or the editor's.",
            ),
        ]

    def __str__(self):
        text = " ".join(self.text.split())
        return f"“{text[:80]}…”" if len(text) > 80 else f"“{text}”"

    def save(self, *args, **kwargs):
        self.is_characterisation = self.compute_is_characterisation()
        self.copy_from_parents()
        if self.pk:
            self.sort_key = make_sort_key(self.document_date, self.pk)
        same_text = Excerpt.objects.filter(document_id=self.document_id, text=self.text).exclude(pk=self.pk)
        self.maybe_duplicate = same_text.exists()
        super().save(*args, **kwargs)
        if self.maybe_duplicate:
            # The others are flagged too, so that the desk finds each one without reading the table.
            same_text.filter(maybe_duplicate=False).update(maybe_duplicate=True)
        if self.sort_key is None:
            # A new excerpt: the key needs the id the insert has just given.
            self.sort_key = make_sort_key(self.document_date, self.pk)
            Excerpt.objects.filter(pk=self.pk).update(sort_key=self.sort_key)

    def get_absolute_url(self):
        return excerpt_url(self.pk)

    # The labels of the excerpt template, which an election's or a mission's page repeats a hundred
    # times or more: get_stance_display() and the like build a dictionary of the choices on each call.
    @property
    def stance_label(self):
        return STANCES.get(self.stance, self.stance)

    @property
    def fidelity_label(self):
        return FIDELITIES.get(self.fidelity, self.fidelity)

    @property
    def translation_status_label(self):
        return TRANSLATION_STATUSES.get(self.translation_status, self.translation_status)

    def clean(self):
        if self.fidelity and self.document_id and self.mission_id and not self.compute_is_characterisation():
            raise ValidationError({"fidelity": "Only a characterisation (a third party's text) has a fidelity rating."})

    @property
    def is_public(self):
        return self.is_published and self.document.is_published and self.mission.is_published

    def quality_warnings(self):
        warnings = []
        if Excerpt.objects.filter(document_id=self.document_id, text=self.text).exclude(pk=self.pk).exists():
            warnings.append("Another excerpt of the same document has the same text: this is likely a duplicate.")
        if self.is_characterisation and not self.primary_excerpts.exists():
            warnings.append(
                "This characterisation is linked to no primary excerpt: link the passages it claims to report."
            )
        return warnings

    def publish_problems(self):
        problems = []
        if self.is_characterisation:
            if not self.fidelity:
                problems.append("Rate the characterisation's fidelity before publishing it.")
            unpublished = [str(p) for p in self.primary_excerpts.all() if not p.is_published]
            if unpublished:
                problems.append("Publish the primary excerpts it reports first: " + "; ".join(unpublished) + ".")
        return problems

    def copy_from_parents(self):
        mission, document = self.mission, self.document
        election = mission.election
        self.organisation_id = mission.organisation_id
        self.election_id = election.pk
        self.country = election.country.code
        self.election_date = election.election_date
        self.document_date = document.date
        self.document_kind = document.kind
        self.document_publisher_id = document.publisher_id
        self.provenance = document.provenance
        self.public = self.is_published and mission.is_published and document.is_published

    @classmethod
    def sync_copies(cls, excerpts):
        """Refresh the copied fields of `excerpts` (a queryset) in one UPDATE, after a parent changed."""
        published = Publishable.Status.PUBLISHED
        mission = Mission.objects.filter(pk=models.OuterRef("mission_id"))
        document = Document.objects.filter(pk=models.OuterRef("document_id"))
        excerpts.update(
            organisation_id=models.Subquery(mission.values("organisation_id")[:1]),
            election_id=models.Subquery(mission.values("election_id")[:1]),
            country=models.Subquery(mission.values("election__country")[:1]),
            election_date=models.Subquery(mission.values("election__election_date")[:1]),
            document_date=models.Subquery(document.values("date")[:1]),
            document_kind=models.Subquery(document.values("kind")[:1]),
            document_publisher_id=models.Subquery(document.values("publisher_id")[:1]),
            provenance=models.Subquery(document.values("provenance")[:1]),
            public=models.Case(
                models.When(
                    Q(status=published)
                    & models.Exists(mission.filter(status=published))
                    & models.Exists(document.filter(status=published)),
                    then=models.Value(True),
                ),
                default=models.Value(False),
            ),
        )
        excerpts.update(sort_key=DayNumber("document_date") * SORT_DAY + F("id"))

    def compute_is_characterisation(self):
        if not (self.document_id and self.mission_id):
            return False
        return self.document.publisher_id not in self.mission.signatory_ids()

    @classmethod
    def refresh_characterisation_flags(cls, excerpts):
        """Recompute the flag after a mission's partners or a document's publisher changed."""
        for excerpt in excerpts.select_related("document", "mission").prefetch_related("mission__joint_partners"):
            flag = excerpt.compute_is_characterisation()
            if flag != excerpt.is_characterisation:
                # A passage that became the mission's own words has no fidelity to rate.
                changes = {"is_characterisation": flag} if flag else {"is_characterisation": flag, "fidelity": ""}
                cls.objects.filter(pk=excerpt.pk).update(**changes)


STANCES = dict(Excerpt.Stance.choices)
FIDELITIES = dict(Excerpt.Fidelity.choices)
TRANSLATION_STATUSES = dict(Excerpt.TranslationStatus.choices)
