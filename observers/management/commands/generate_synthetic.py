"""Generate a clearly synthetic record of a given size, for speed and load tests.

Every synthetic organisation's slug starts with "synthetic-" and its name with "Synthetic"; every
other synthetic record hangs from those organisations, so real records are never touched and
`--replace` removes only what this command made.

Loading a million excerpts is most of the work, and it is done the bulk-load way:

- ids are given in date order (elections, missions, documents and excerpts alike), so that the ids,
  the sort keys and the indexes kept during the load only ever grow: each insert lands at the end of
  an index, or of one of its few groups; and on SQLite the full-text index, whose row key is the
  sort key, receives its rows in key order in its one rebuild;
- an excerpt is a handful of random numbers: which document, which draw of (page, stance,
  headline, fidelity, topics) from a pool made once, which sentences from a pool made once;
- SQLite expands those numbers into rows itself (INSERT ... SELECT from temporary tables, a batch
  at a time); PostgreSQL gets full rows by COPY;
- the model's own indexes and the full-text index are built once, at the end, and SQLite writes
  with a rollback journal rather than WAL (each page once rather than twice) and without syncing.

The printed rate counts everything it takes to make the data usable: organisations, elections,
missions, documents, excerpts and their topics, the indexes, the full-text index and fresh planner
statistics. Removing earlier synthetic data (`--replace`) is timed on its own line, outside the rate.
"""

import datetime
import random
import time
from contextlib import contextmanager, suppress
from itertools import accumulate

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import OperationalError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Q

from observers import models, search, topic_ids
from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic
from observers.signals import record_changed

PREFIX = "synthetic-"
# Per million excerpts, the proportions of the brief: 300 organisations, 5,000 elections,
# 20,000 missions and 60,000 documents.
PER_MILLION = {"organisations": 300, "elections": 5000, "missions": 20000, "documents": 60000}
COUNTRIES = ["AM", "AZ", "BY", "GE", "KG", "KZ", "MD", "RU", "TJ", "TM", "UA", "UZ", "RS", "MK", "AL", "BA", "ME",
             "XK", "TR", "MN", "KE", "NG", "ZW", "VE", "NI", "BO", "PK", "BD", "KH", "MM"]  # fmt: skip
WORDS = (  # noqa: SIM905
    "election elections observers mission voting counting tabulation campaign media candidates parties "
    "registration voters commission legal framework fundamental freedoms assembly expression complaints "
    "appeals turnout polling stations procedures transparency accountability competition pluralism "
    "administration authorities law amendments recommendations implementation observed noted welcomed "
    "concerns irregularities ballot stuffing secrecy family group proxy intimidation pressure access "
    "women minorities persons disabilities youth broadcasters coverage balanced biased state resources "
    "misuse incumbent opposition boycott technical efficiently professionally organised calm orderly "
    "genuine choice limitations restrictions constitutionally guaranteed international standards commitments"
).split()
RARE_WORDS = ["quokka", "zeitgeber", "xylograph", "vexillology", "umbrageous"]
SENTENCES = 4000  # the pool of sentences that excerpt texts are made of
VARIANTS = 8192  # the pool of (page, stance, headline, fidelity, topics) draws, for each kind of document
PUBLISHED_SHARE = 0.95  # of excerpts; the rest are drafts
TWO_SENTENCES_SHARE = 0.5  # of excerpts; the rest have one sentence
# Stances: mostly positive or neutral, fewer critical, a few mixed.
STANCE_SHARES = {"positive": 50, "neutral": 20, "critical": 22, "mixed": 8}
TOPIC_COUNTS = [0, 1, 1, 1, 2, 2, 3]  # topics per excerpt, drawn uniformly from this list
WHEN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)  # created, updated and published
PUBLISHED, DRAFT = "published", "draft"

# The columns written, in the order the generator gives their values; the others get their defaults.
ELECTION_COLUMNS = ["id", "created_at", "updated_at", "election_date", "country", "kind", "round", "slug", "notes"]
MISSION_COLUMNS = ["id", "created_at", "updated_at", "published_at", "election_id", "organisation_id",
                   "mission_type", "head", "core_team", "long_term_observers", "short_term_observers", "verdict",
                   "status", "election_date"]  # fmt: skip
DOCUMENT_COLUMNS = ["id", "created_at", "updated_at", "published_at", "date", "title", "kind", "publisher_id", "url",
                    "provenance", "election_id", "status"]  # fmt: skip

# SQLite's FTS5 keeps 1 MB of new index in memory before it writes it out as a segment: for a
# million excerpts, hundreds of segments, and their merging. The one rebuild gets far more.
FTS_CONFIG = "INSERT INTO observers_excerpt_fts(observers_excerpt_fts, rank) VALUES (%s, %s)"
FTS_REBUILD_HASH_BYTES = 256 * 1024 * 1024
FTS_DEFAULT_HASH_BYTES = 1024 * 1024


class Phases:
    """Wall-clock seconds per phase, for the summary."""

    def __init__(self):
        self.seconds = {}

    def add(self, name, seconds):
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def __call__(self, name):
        started = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - started)


@contextmanager
def indexes_paused(cursor, model, phases):
    """Drop the model's own indexes for a bulk load, and build them again, sorted, at the end.

    The statements are run directly, not in the schema editor: on SQLite, the editor also checks
    every foreign key of the whole database on its way out.
    """
    editor = connection.schema_editor()
    for index in model._meta.indexes:
        cursor.execute(f"DROP INDEX {quote(index.name)}")
    try:
        yield
    finally:
        with phases("indexes"):
            if connection.vendor == "postgresql" and connection.in_atomic_block:
                # Inside a transaction (as in tests) the foreign key checks of the load are still
                # pending, and PostgreSQL builds no index on a table with pending checks.
                connection.check_constraints()
            for index in model._meta.indexes:
                cursor.execute(str(index.create_sql(model, editor)))


@contextmanager
def search_paused(cursor, phases):
    """As search.paused(): no full-text indexing row by row, one rebuild at the end; timed, and with
    more memory for the rebuild."""
    vendor = connection.vendor
    teardown = {"sqlite": search.SQLITE_FTS_TEARDOWN, "postgresql": search.PG_FTS_TEARDOWN}.get(vendor, [])
    setup = {"sqlite": search.SQLITE_FTS_SETUP, "postgresql": search.PG_FTS_SETUP}.get(vendor, [])
    for statement in teardown:
        cursor.execute(statement)
    try:
        yield
    finally:
        with phases("full-text index"):
            if vendor == "postgresql":
                cursor.execute("SET maintenance_work_mem = '512MB'")
            for statement in setup:
                if vendor == "sqlite" and "'rebuild'" in statement:
                    cursor.execute(FTS_CONFIG, ["hashsize", FTS_REBUILD_HASH_BYTES])
                    cursor.execute(statement)
                    cursor.execute(FTS_CONFIG, ["hashsize", FTS_DEFAULT_HASH_BYTES])
                else:
                    cursor.execute(statement)
            if vendor == "postgresql":
                cursor.execute("RESET maintenance_work_mem")


@contextmanager
def fast_writes(cursor):
    """On SQLite, for the load: each page written once, and no waiting for the disk.

    In WAL mode every page is written twice, to the log and then to the database; a rollback journal
    keeps only the pages that a transaction changes, and a load mostly adds new ones. The switch
    needs the database to itself: when another connection has it open, the load stays in WAL, only
    slower. A crash of the command loses at most the batch in progress (the journal is on disk); a
    crash of the machine could do more, as with any write without sync. Neither setting can change
    inside a transaction: called in one (as tests do), the command writes as usual.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
    cursor.execute("PRAGMA synchronous")
    synchronous = int(cursor.fetchone()[0])
    if journal == "wal":
        with suppress(OperationalError):  # another connection has the database open
            cursor.execute("PRAGMA journal_mode=TRUNCATE")
    cursor.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        if journal == "wal":
            with suppress(OperationalError):  # then the next connection's settings set WAL again
                cursor.execute("PRAGMA journal_mode=WAL")


def quote(name):
    return connection.ops.quote_name(name)


def raw_delete(cursor, queryset):
    """Delete the rows of `queryset` in one statement: no rows loaded, no signals, no history rows."""
    meta = queryset.model._meta
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    # Table and column names come from the model, never from input.
    cursor.execute(f"DELETE FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} IN ({sql})", params)  # noqa: S608  # nosec B608


def next_id(cursor, model):
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {table}")  # noqa: S608  # nosec B608
    return cursor.fetchone()[0] + 1


class Table:
    """Inserts rows (tuples of values in the order of `columns`) into a model's table.

    Columns not named get the model's default, as the ORM would give it (the primary key, the
    database's next id; a generated column, what the database computes); with `strict`, every column
    must be named, so that a new column cannot go unnoticed.
    """

    def __init__(self, cursor, model, columns, strict=False):
        self.cursor = cursor
        rest = [field for field in model._meta.concrete_fields if field.column not in columns]
        rest = [field for field in rest if not (field.primary_key or field.generated)]
        if strict and rest:
            names = sorted(field.column for field in rest)
            raise CommandError(f"The generator does not know the {model._meta.db_table} columns {names}.")
        self.defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in rest)
        # Table and column names come from the model, never from input.
        self.table = quote(model._meta.db_table)
        self.columns = ", ".join(quote(column) for column in [*columns, *(field.column for field in rest)])
        self.stage = quote(f"synthetic_{model._meta.db_table}")
        self.width = len(columns) + len(rest)

    def insert(self, rows):
        if self.defaults:
            rows = [row + self.defaults for row in rows]
        if connection.vendor == "postgresql":
            with self.cursor.cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Into a temporary table first (in memory: no index, no constraint, no trigger), then all at
        # once: the table's per-statement work (autoincrement, foreign keys) is then done once per
        # batch, not once per row.
        cursor, stage, marks = self.cursor, self.stage, ", ".join(["%s"] * self.width)
        cursor.execute(f"CREATE TEMP TABLE {stage} ({', '.join(f'c{n}' for n in range(self.width))})")
        try:
            cursor.executemany(f"INSERT INTO temp.{stage} VALUES ({marks})", rows)  # noqa: S608  # nosec B608
            cursor.execute(f"INSERT INTO {self.table} ({self.columns}) SELECT * FROM temp.{stage}")  # noqa: S608  # nosec B608
        finally:
            cursor.execute(f"DROP TABLE temp.{stage}")


class Command(BaseCommand):
    help = "Create a clearly synthetic record of a given size (deterministic), for speed and load tests."

    def add_arguments(self, parser):
        parser.add_argument(
            "--excerpts",
            type=int,
            default=100_000,
            help="How many excerpts (default 100,000); 0 with --replace removes the synthetic data only.",
        )
        parser.add_argument("--seed", type=int, default=2016, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--replace", action="store_true", help="Delete earlier synthetic data first.")
        parser.add_argument("--batch", type=int, default=20_000, help="Excerpts per insert batch (default 20,000).")

    def handle(self, *args, excerpts, seed, replace, batch, verbosity, **options):
        if excerpts < 0 or (excerpts == 0 and not replace):
            raise CommandError("--excerpts must be at least 1 (or 0 with --replace, to remove the synthetic data).")
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        self.verbosity = verbosity
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            # The generator writes the tables and indexes of the models as they are now.
            raise CommandError("The database has unapplied migrations: run migrate first.")
        existing = Organisation.objects.filter(slug__startswith=PREFIX).exists()
        if existing and not replace:
            raise CommandError("Synthetic data already exists: use --replace to regenerate it.")
        if not (existing or excerpts):
            self.say("No synthetic data to remove.")
            return
        phases = Phases()
        # The full-text index and the model's indexes stay paused for the removal too: both are
        # built again at the end anyway. So do the triggers that keep each excerpt's copy of its topic
        # ids: the rows are written with theirs.
        with (
            connection.cursor() as cursor,
            fast_writes(cursor),
            search_paused(cursor, phases),
            topic_ids.paused(cursor, connection.vendor),
            indexes_paused(cursor, Excerpt, phases),
        ):
            if existing:
                with phases("removal of the earlier synthetic data"):
                    self.delete_synthetic(cursor)
                self.say("Deleted the earlier synthetic data.")
            started = time.monotonic()
            made = self.generate(cursor, excerpts, seed, batch, phases) if excerpts else None
        # Fresh statistics for the tables written, so that the query planner knows their sizes. On
        # PostgreSQL, a VACUUM too (outside a transaction, where it can run): it marks the new rows
        # visible to all, which lets counts be answered from an index alone without waiting for the
        # autovacuum.
        vacuum = connection.vendor == "postgresql" and connection.get_autocommit()
        with (
            phases("statistics (VACUUM, ANALYZE)" if vacuum else "statistics (ANALYZE)"),
            connection.cursor() as cursor,
        ):
            written = [Organisation, Election, Mission, Document, Document.missions.through, Excerpt]
            for model in [*written, Excerpt.topics.through]:
                cursor.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {quote(model._meta.db_table)}")
        elapsed = time.monotonic() - started
        record_changed()  # raw SQL sends no signals: retire the cached counts and pages explicitly
        for name, seconds in phases.seconds.items():
            self.say(f"  {name}: {seconds:.1f} s")
        if made:
            self.say(
                f"Synthetic record: {made} excerpts in {elapsed:.1f} s, everything included "
                f"({excerpts / max(elapsed, 1e-6):,.0f} excerpts a second)."
            )

    def say(self, message, ending="\n"):
        if self.verbosity >= 1:
            self.stdout.write(message, ending=ending)
            self.stdout.flush()

    def generate(self, cursor, excerpts, seed, batch, phases):
        """The synthetic record; what it holds, for the summary."""
        rng = random.Random(seed)  # noqa: S311  # synthetic data, not security
        scale = excerpts / 1_000_000
        sizes = {
            name: max(minimum, round(per * scale))
            for (name, per), minimum in zip(PER_MILLION.items(), [5, 10, 20, 40], strict=True)
        }
        with phases("organisations, elections, missions, documents"), transaction.atomic():
            organisations = self.make_organisations(sizes["organisations"])
            elections = self.make_elections(cursor, sizes["elections"])
            missions = self.make_missions(cursor, sizes["missions"], organisations, elections, rng)
            documents = self.make_documents(cursor, sizes["documents"], missions, organisations, rng)
        loaded = self.make_excerpts(cursor, excerpts, documents, rng, batch, phases)
        if connection.vendor == "postgresql":
            # The ids were given: move the sequences past them.
            for statement in connection.ops.sequence_reset_sql(no_style(), [Election, Mission, Document, Excerpt]):
                cursor.execute(statement)
        return (
            f"{len(organisations)} organisations, {len(elections)} elections, {len(missions)} missions, "
            f"{len(documents)} documents, {loaded:,}"
        )

    def delete_synthetic(self, cursor):
        """Raw deletes, in one transaction: the ORM would load every row, and record each removal in
        the history tables."""
        organisations = Organisation.objects.filter(slug__startswith=PREFIX)
        missions = Mission.objects.filter(organisation__in=organisations)
        documents = Document.objects.filter(publisher__in=organisations)
        excerpts = Excerpt.objects.filter(Q(document__in=documents) | Q(mission__in=missions))
        with transaction.atomic():
            Mission.objects.filter(Q(pk__in=missions) | Q(verdict_excerpt__in=excerpts)).update(verdict_excerpt=None)
            links = Excerpt.primary_excerpts.through.objects
            raw_delete(cursor, links.filter(Q(from_excerpt__in=excerpts) | Q(to_excerpt__in=excerpts)))
            raw_delete(cursor, Excerpt.topics.through.objects.filter(excerpt__in=excerpts))
            raw_delete(cursor, excerpts)
            links = Document.missions.through.objects
            raw_delete(cursor, links.filter(Q(document__in=documents) | Q(mission__in=missions)))
            raw_delete(cursor, documents)
            links = Mission.joint_partners.through.objects
            raw_delete(cursor, links.filter(Q(mission__in=missions) | Q(organisation__in=organisations)))
            raw_delete(cursor, missions)
            raw_delete(cursor, Election.objects.filter(slug__startswith=PREFIX))
            organisations.filter(parent__isnull=False).update(parent=None)
            raw_delete(cursor, organisations)

    def make_organisations(self, count):
        kinds = [choice for choice in Organisation.Kind.values if choice != Organisation.Kind.NEWS]
        rows = [
            Organisation(
                name=f"Synthetic observer body {n:04d}",
                acronym=f"SYN{n:03d}",
                slug=f"{PREFIX}org-{n:04d}",
                kind=kinds[n % len(kinds)],
                endorsed_declaration=n % 3 == 0,
                description="Synthetic organisation for speed tests.",
            )
            for n in range(count - 2)
        ]
        rows.append(Organisation(name="Synthetic news agency", slug=f"{PREFIX}news", kind=Organisation.Kind.NEWS))
        rows.append(
            Organisation(name="Synthetic foreign ministry", slug=f"{PREFIX}ministry", kind=Organisation.Kind.GOVERNMENT)
        )
        Organisation.objects.bulk_create(rows, batch_size=500)
        organisations = list(Organisation.objects.filter(slug__startswith=PREFIX))
        # The observer bodies in order, then the two third parties (the ministry and the agency).
        organisations.sort(key=lambda body: (not body.slug.startswith(f"{PREFIX}org-"), body.slug))
        # A few child bodies, as the OSCE has ODIHR.
        for parent, child in zip(organisations[:5], organisations[5:10], strict=False):
            child.parent = parent
        Organisation.objects.bulk_update(organisations[5:10], ["parent"])
        return organisations

    def make_elections(self, cursor, count):
        """(id, country, election day) of each election."""
        kinds = Election.Kind.values
        rows = []
        start = datetime.date(1990, 1, 7)
        for n in range(count):
            day = start + datetime.timedelta(days=(n * 7919) % 12775)
            country = COUNTRIES[n % len(COUNTRIES)]
            kind = kinds[(n // len(COUNTRIES)) % len(kinds)]
            round_ = 1 + n // (len(COUNTRIES) * len(kinds) * 12775)
            rows.append((day, country, kind, round_, f"{PREFIX}election-{n:05d}"))
        rows.sort()  # ids in date order
        first = next_id(cursor, Election)
        ops, now = connection.ops, connection.ops.adapt_datetimefield_value(WHEN)
        Table(cursor, Election, ELECTION_COLUMNS).insert(
            [
                (pk, now, now, ops.adapt_datefield_value(day), country, kind, round_, slug, "Synthetic election.")
                for pk, (day, country, kind, round_, slug) in enumerate(rows, first)
            ]
        )
        return [(pk, country, day) for pk, (day, country, *_) in enumerate(rows, first)]

    def weights(self, count):
        """One body with about 15 % of everything, a few heavy ones, a long tail of light ones."""
        weights = [1 / (rank + 1) ** 1.1 for rank in range(count)]
        rest = sum(weights[1:])
        weights[0] = rest * 0.15 / 0.85
        return weights

    def make_missions(self, cursor, count, organisations, elections, rng):
        """(id, organisation id, election, published) of each mission."""
        observers = [body.pk for body in organisations[:-2]]
        cumulative = list(accumulate(self.weights(len(observers))))
        types = Mission.Type.values
        verdicts = [*Mission.Verdict.values, ""]
        seen, rows = set(), []
        while len(rows) < count:
            organisation = rng.choices(observers, cum_weights=cumulative)[0]
            election = elections[rng.randrange(len(elections))]
            mission_type = types[rng.randrange(len(types))]
            if (organisation, election, mission_type) in seen:
                continue
            seen.add((organisation, election, mission_type))
            rows.append(
                (
                    election,
                    organisation,
                    mission_type,
                    f"Synthetic head {len(rows)}",
                    rng.choice([None, rng.randint(5, 40)]),
                    rng.choice([None, rng.randint(10, 80)]),
                    rng.choice([None, rng.randint(50, 500)]),
                    rng.choice(verdicts),
                    PUBLISHED if rng.random() < 0.97 else DRAFT,
                )
            )
        rows.sort(key=lambda row: row[0][2])  # ids in election-date order (a stable sort)
        first = next_id(cursor, Mission)
        now, day = connection.ops.adapt_datetimefield_value(WHEN), connection.ops.adapt_datefield_value
        Table(cursor, Mission, MISSION_COLUMNS).insert(
            [
                (pk, now, now, now if row[-1] == PUBLISHED else None, row[0][0], *row[1:], day(row[0][2]))
                for pk, row in enumerate(rows, first)
            ]
        )
        return [
            (pk, organisation, election, status == PUBLISHED)
            for pk, (election, organisation, *_, status) in enumerate(rows, first)
        ]

    def make_documents(self, cursor, count, missions, organisations, rng):
        """(id, date, kind, provenance, publisher id, published, mission) of each document."""
        kinds = Document.Kind.values
        # Days from election day, by kind; the op-eds (a third party's) come two days after.
        offsets = {kind: datetime.timedelta(days=days) for kind, days in zip(kinds, [-30, -10, 1, 90], strict=False)}
        offsets[Document.Kind.OP_ED.value] = datetime.timedelta(days=2)
        labels = {kind: label.lower() for kind, label in Document.Kind.choices}
        provenances = Document.Provenance.values
        third_parties = [body.pk for body in organisations[-2:]]
        rows = []
        for n in range(count):
            mission = missions[n % len(missions)] if n < len(missions) else missions[rng.randrange(len(missions))]
            _, organisation, (election, _, election_day), _ = mission
            third_party = n % 20 == 19
            kind = Document.Kind.OP_ED.value if third_party else kinds[n % 4]
            rows.append(
                (
                    election_day + offsets[kind],
                    f"Synthetic {labels[kind]} {n}",
                    kind,
                    third_parties[n % 2] if third_party else organisation,
                    f"https://synthetic.example.org/documents/{n}",
                    provenances[n % 4],
                    election,
                    PUBLISHED if rng.random() < 0.98 else DRAFT,
                    mission,
                )
            )
        rows.sort(key=lambda row: row[0])  # ids in date order (a stable sort)
        first = next_id(cursor, Document)
        ops, now = connection.ops, connection.ops.adapt_datetimefield_value(WHEN)
        Table(cursor, Document, DOCUMENT_COLUMNS).insert(
            [
                (pk, now, now, now if row[-2] == PUBLISHED else None, ops.adapt_datefield_value(row[0]), *row[1:-1])
                for pk, row in enumerate(rows, first)
            ]
        )
        Table(cursor, Document.missions.through, ["document_id", "mission_id"]).insert(
            [(pk, row[-1][0]) for pk, row in enumerate(rows, first)]
        )
        return [
            (pk, day, kind, provenance, publisher, status == PUBLISHED, mission)
            for pk, (day, _, kind, publisher, _, provenance, _, status, mission) in enumerate(rows, first)
        ]

    def sentences(self, rng):
        """A pool of sentences of realistic lengths, most words common, a few rare."""
        pool = []
        for _ in range(SENTENCES):
            words = [WORDS[min(int(rng.expovariate(0.05)), len(WORDS) - 1)] for _ in range(rng.randint(12, 60))]
            if rng.random() < 0.01:
                words[rng.randrange(len(words))] = rng.choice(RARE_WORDS)
            pool.append(" ".join(words).capitalize() + ".")
        return pool

    def variants(self, rng, topics):
        """A pool of ((page, stance, is_headline, fidelity, topic ids as text), topic ids), each part
        drawn on its own: the first VARIANTS for an organisation's own documents (no fidelity), the next
        for third parties'."""
        stances = [stance for stance, share in STANCE_SHARES.items() for _ in range(share)]
        fidelities = Excerpt.Fidelity.values
        pool = []
        for characterisation in (False, True):
            for _ in range(VARIANTS):
                values = (
                    str(rng.randint(1, 40)),
                    stances[rng.randrange(len(stances))],
                    rng.random() < 0.02,
                    fidelities[rng.randrange(len(fidelities))] if characterisation else "",
                )
                chosen = tuple(rng.sample(topics, min(len(topics), rng.choice(TOPIC_COUNTS))))
                # The excerpt's copy of its topic ids, written with it (see observers.topic_ids).
                pool.append(((*values, ",".join(map(str, sorted(chosen)))), chosen))
        return pool

    def make_excerpts(self, cursor, count, documents, rng, batch, phases):
        """Excerpts in their documents' date order, each made of a few random numbers (see Excerpts)."""
        started = time.monotonic()
        ops = connection.ops
        now = ops.adapt_datetimefield_value(WHEN)
        pool = self.sentences(rng)
        variants = self.variants(rng, list(Topic.objects.order_by("pk").values_list("pk", flat=True)))
        # How many excerpts each document has: each excerpt picks one at random.
        random_ = rng.random
        counts = [0] * len(documents)
        for _ in range(count):
            counts[int(random_() * len(documents))] += 1
        # What each excerpt copies from its document, mission and election: each document twice,
        # the second time for draft excerpts.
        keyed = "sort_key" in {field.column for field in Excerpt._meta.concrete_fields}
        plan, by_document = [], []
        for (pk, day, kind, provenance, publisher, published, mission), many in zip(documents, counts, strict=True):
            if not many:
                continue
            mission_pk, organisation, (election, country, election_day), mission_published = mission
            characterisation = publisher != organisation
            dates = ops.adapt_datefield_value(election_day), ops.adapt_datefield_value(day)
            copied = (
                mission_pk, pk, characterisation, organisation, election, country, *dates, kind, provenance, publisher
            )  # fmt: skip
            base_key = models.make_sort_key(day, 0) if keyed else 0
            plan.append((many, len(by_document), VARIANTS if characterisation else 0))
            by_document.append((base_key, PUBLISHED, now, published and mission_published, *copied))
            by_document.append((base_key, DRAFT, None, False, *copied))
        constant = {"created_at": now, "updated_at": now, "language": "en", "translation": "",
                    "translation_status": "", "paragraph": "", "fidelity_note": ""}  # fmt: skip
        writer = SQLiteExcerpts if connection.vendor == "sqlite" else Excerpts
        excerpts = writer(cursor, pool, variants, by_document, constant, keyed)
        pk = next_id(cursor, Excerpt)
        sentences = len(pool)
        # Each sentence's first place in the pool: two excerpts have the same text exactly when they
        # have the same numbers here (a sentence has one full stop, at its end).
        first_of = {}
        same = [first_of.setdefault(sentence, n) for n, sentence in enumerate(pool)]
        phases.add("excerpts: preparation", time.monotonic() - started)
        made, rows = 0, []
        try:
            making = time.monotonic()
            # The documents are in date order: so are the excerpts, and their ids.
            for many, document, variant in plan:
                # The document's texts, each with the row of its first excerpt: the excerpts that share
                # a text are flagged as maybe duplicates, as Excerpt.save() flags them. A document's
                # excerpts are all in one batch.
                texts = {}
                for _ in range(many):
                    draw = random_()
                    if draw < TWO_SENTENCES_SHARE:
                        first, second = int(draw / TWO_SENTENCES_SHARE * sentences), None
                        text = same[first]
                    else:
                        first, second = int(random_() * sentences), int(random_() * sentences)
                        text = (same[first], same[second])
                    status = document if random_() < PUBLISHED_SHARE else document + 1
                    earlier = texts.setdefault(text, len(rows))
                    repeated = earlier != len(rows)
                    rows.append((pk, status, variant + int(random_() * VARIANTS), first, second, repeated))
                    if repeated:
                        rows[earlier] = (*rows[earlier][:-1], True)
                    pk += 1
                if len(rows) >= batch:
                    phases.add("excerpts: rows made in Python", time.monotonic() - making)
                    made += self.write(excerpts, rows, phases)
                    rows = []
                    self.say(f"  {made:,} excerpts", ending="\r")
                    making = time.monotonic()
            phases.add("excerpts: rows made in Python", time.monotonic() - making)
            made += self.write(excerpts, rows, phases)
        finally:
            excerpts.close()
        self.say(f"  {made:,} excerpts")
        return made

    def write(self, excerpts, rows, phases):
        if rows:
            with phases("excerpts: inserts"), transaction.atomic():
                excerpts.insert(rows)
        return len(rows)


class Excerpts:
    """Writes excerpts given as (id, document, variant, first sentence, second sentence or None, whether
    another excerpt of the document has the same text).

    `document` indexes `by_document` (the sort key's day part, then what the excerpt copies from its
    document, mission and election), `variant` indexes `variants` ((page, stance, is_headline,
    fidelity, topic ids as text), topic ids), and the sentences index `pool`. This one makes full rows in Python, for
    COPY.
    """

    BY_DOCUMENT = ["status", "published_at", "public", "mission_id", "document_id", "is_characterisation",
                   "organisation_id", "election_id", "country", "election_date", "document_date", "document_kind",
                   "provenance", "document_publisher_id"]  # fmt: skip
    BY_VARIANT = ["page", "stance", "is_headline", "fidelity", "topic_ids"]

    def __init__(self, cursor, pool, variants, by_document, constant, keyed):
        self.cursor, self.pool, self.variants, self.keyed = cursor, pool, variants, keyed
        self.by_document = [(row[0], row[1:]) for row in by_document]
        self.constant = tuple(constant.values())
        self.columns = ["id", "sort_key"] if keyed else ["id"]
        self.columns += ["text", "maybe_duplicate", *self.BY_VARIANT, *self.BY_DOCUMENT, *constant]
        # Strict: a column added to the model stops the generator rather than stay empty.
        self.table = Table(cursor, Excerpt, self.columns, strict=True)
        self.topics = Table(cursor, Excerpt.topics.through, ["excerpt_id", "topic_id"])

    def insert(self, rows):
        pool, variants, by_document, constant = self.pool, self.variants, self.by_document, self.constant
        excerpts, links = [], []
        for pk, document, variant, first, second, duplicate in rows:
            base_key, copied = by_document[document]
            values, topics = variants[variant]
            text = pool[first] if second is None else f"{pool[first]} {pool[second]}"
            head = (pk, base_key + pk, text, duplicate) if self.keyed else (pk, text, duplicate)
            excerpts.append(head + values + copied + constant)
            links.extend((pk, topic) for topic in topics)
        self.table.insert(excerpts)
        self.topics.insert(links)

    def close(self):
        pass


class SQLiteExcerpts(Excerpts):
    """As Excerpts, but SQLite makes the rows itself, joining temporary tables of the documents, the
    variants and the sentences: Python binds five numbers per excerpt instead of some thirty values,
    and nothing per topic link, and SQLite does the rest a batch at a time."""

    def __init__(self, cursor, pool, variants, by_document, constant, keyed):
        super().__init__(cursor, pool, variants, by_document, constant, keyed)
        self.close()  # what an interrupted run may have left on this connection
        by_document_columns = ", ".join(quote(column) for column in self.BY_DOCUMENT)
        by_variant_columns = ", ".join(quote(column) for column in self.BY_VARIANT)
        statements = [
            f"CREATE TEMP TABLE synthetic_documents (id INTEGER PRIMARY KEY, base_key, {by_document_columns})",
            f"CREATE TEMP TABLE synthetic_variants (id INTEGER PRIMARY KEY, {by_variant_columns})",
            "CREATE TEMP TABLE synthetic_variant_topics (variant, topic, PRIMARY KEY (variant, topic)) WITHOUT ROWID",
            "CREATE TEMP TABLE synthetic_sentences (id INTEGER PRIMARY KEY, text)",
            "CREATE TEMP TABLE synthetic_rows (id INTEGER PRIMARY KEY, document, variant, first, second, duplicate)",
        ]
        for statement in statements:
            cursor.execute(statement)
        marks = ", ".join(["%s"] * (2 + len(self.BY_DOCUMENT)))
        cursor.executemany(
            f"INSERT INTO synthetic_documents VALUES ({marks})",  # noqa: S608  # nosec B608
            [(n, *row) for n, row in enumerate(by_document)],
        )
        cursor.executemany(
            "INSERT INTO synthetic_variants VALUES (%s, %s, %s, %s, %s, %s)",
            [(n, *values) for n, (values, _) in enumerate(variants)],
        )
        cursor.executemany(
            "INSERT INTO synthetic_variant_topics VALUES (%s, %s)",
            [(n, topic) for n, (_, topics) in enumerate(variants) for topic in topics],
        )
        cursor.executemany("INSERT INTO synthetic_sentences VALUES (%s, %s)", list(enumerate(pool)))
        expressions = {
            "id": "r.id",
            "sort_key": "d.base_key + r.id",
            "text": "CASE WHEN r.second IS NULL THEN s1.text ELSE s1.text || ' ' || s2.text END",
            "maybe_duplicate": "r.duplicate",
            **{column: f"v.{quote(column)}" for column in self.BY_VARIANT},
            **{column: f"d.{quote(column)}" for column in self.BY_DOCUMENT},
            **dict.fromkeys(constant, "%s"),
        }
        table, columns = quote(Excerpt._meta.db_table), ", ".join(quote(column) for column in self.columns)
        values = ", ".join(expressions[column] for column in self.columns)
        # Table and column names come from the model, never from input. CROSS JOIN keeps SQLite's
        # join order: the batch in id order, then one lookup in each pool.
        self.insert_excerpts = (
            f"INSERT INTO {table} ({columns}) SELECT {values} FROM temp.synthetic_rows r "  # noqa: S608  # nosec B608
            "CROSS JOIN temp.synthetic_documents d CROSS JOIN temp.synthetic_variants v "
            "CROSS JOIN temp.synthetic_sentences s1 LEFT JOIN temp.synthetic_sentences s2 ON s2.id = r.second "
            "WHERE d.id = r.document AND v.id = r.variant AND s1.id = r.first ORDER BY r.id"
        )
        self.insert_links = (
            f"INSERT INTO {quote(Excerpt.topics.through._meta.db_table)} (excerpt_id, topic_id) "  # noqa: S608  # nosec B608
            "SELECT r.id, t.topic FROM temp.synthetic_rows r CROSS JOIN temp.synthetic_variant_topics t "
            "WHERE t.variant = r.variant ORDER BY r.id, t.topic"
        )

    def insert(self, rows):
        cursor = self.cursor
        cursor.executemany("INSERT INTO temp.synthetic_rows VALUES (%s, %s, %s, %s, %s, %s)", rows)
        cursor.execute(self.insert_excerpts, self.constant)
        cursor.execute(self.insert_links)
        cursor.execute("DELETE FROM temp.synthetic_rows")

    def close(self):
        for table in ("documents", "variants", "variant_topics", "sentences", "rows"):
            self.cursor.execute(f"DROP TABLE IF EXISTS temp.synthetic_{table}")
