"""Generate a clearly synthetic record of a given size, for speed and load tests.

Every synthetic organisation's slug starts with "synthetic-" and its name with "Synthetic"; every
other synthetic record hangs from those organisations, so real records are never touched and
`--replace` removes only what this command made.
"""

import datetime
import random
import time
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from observers import search
from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic

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


@contextmanager
def indexes_paused(model):
    """Drop the model's own indexes for a bulk load, and build them again, sorted, at the end."""
    with connection.schema_editor() as editor:
        for index in model._meta.indexes:
            editor.remove_index(model, index)
    try:
        yield
    finally:
        with connection.schema_editor() as editor:
            for index in model._meta.indexes:
                editor.add_index(model, index)


@contextmanager
def fast_writes(cursor):
    """On SQLite, skip waiting for the disk during the load: a crash would only lose synthetic rows."""
    if connection.vendor == "sqlite":
        cursor.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous=NORMAL")


class Command(BaseCommand):
    help = "Create a clearly synthetic record of a given size (deterministic), for speed and load tests."

    def add_arguments(self, parser):
        parser.add_argument("--excerpts", type=int, default=100_000, help="How many excerpts (default 100,000).")
        parser.add_argument("--seed", type=int, default=2016, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--replace", action="store_true", help="Delete earlier synthetic data first.")
        parser.add_argument("--batch", type=int, default=5000, help="Rows per insert batch.")

    def handle(self, *args, excerpts, seed, replace, batch, **options):
        if excerpts < 1:
            raise CommandError("--excerpts must be at least 1.")
        existing = Organisation.objects.filter(slug__startswith=PREFIX)
        if existing.exists():
            if not replace:
                raise CommandError("Synthetic data already exists: use --replace to regenerate it.")
            self.delete_synthetic()
        started = time.monotonic()
        rng = random.Random(seed)  # noqa: S311  # synthetic data, not security
        scale = excerpts / 1_000_000
        sizes = {
            name: max(minimum, round(per * scale))
            for (name, per), minimum in zip(PER_MILLION.items(), [5, 10, 20, 40], strict=True)
        }
        with transaction.atomic():
            organisations = self.make_organisations(sizes["organisations"])
            elections = self.make_elections(sizes["elections"], rng)
            missions = self.make_missions(sizes["missions"], organisations, elections, rng)
            documents = self.make_documents(sizes["documents"], missions, organisations, rng)
        setup = time.monotonic() - started
        loaded = self.make_excerpts(excerpts, missions, documents, rng, batch)
        with connection.cursor() as cursor:
            # Fresh statistics, so that the query planner knows the new sizes.
            cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Synthetic record: {len(organisations)} organisations, {len(elections)} elections, "
            f"{len(missions)} missions, {len(documents)} documents, {loaded:,} excerpts "
            f"in {elapsed:.1f} s ({loaded / max(elapsed - setup, 1e-6):,.0f} excerpts a second)."
        )

    def delete_synthetic(self):
        organisations = Organisation.objects.filter(slug__startswith=PREFIX)
        with transaction.atomic():
            Mission.objects.filter(organisation__in=organisations).update(verdict_excerpt=None)
            Excerpt.primary_excerpts.through.objects.filter(
                from_excerpt__document__publisher__in=organisations
            ).delete()
            Excerpt.topics.through.objects.filter(excerpt__document__publisher__in=organisations).delete()
            Excerpt.objects.filter(document__publisher__in=organisations).delete()
            Excerpt.objects.filter(mission__organisation__in=organisations).delete()
            Document.missions.through.objects.filter(document__publisher__in=organisations).delete()
            Document.objects.filter(publisher__in=organisations).delete()
            Mission.joint_partners.through.objects.filter(mission__organisation__in=organisations).delete()
            Mission.objects.filter(organisation__in=organisations).delete()
            Election.objects.filter(slug__startswith=PREFIX).delete()
            organisations.filter(parent__isnull=False).delete()
            organisations.delete()
        self.stdout.write("Deleted the earlier synthetic data.")

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
        organisations = list(Organisation.objects.filter(slug__startswith=PREFIX).order_by("slug"))
        # A few child bodies, as the OSCE has ODIHR.
        for parent, child in zip(organisations[:5], organisations[5:10], strict=False):
            child.parent = parent
        Organisation.objects.bulk_update(organisations[5:10], ["parent"])
        return organisations

    def make_elections(self, count, rng):
        kinds = Election.Kind.values
        rows = []
        start = datetime.date(1990, 1, 7)
        for n in range(count):
            day = start + datetime.timedelta(days=(n * 7919) % 12775)
            rows.append(
                Election(
                    country=COUNTRIES[n % len(COUNTRIES)],
                    kind=kinds[(n // len(COUNTRIES)) % len(kinds)],
                    election_date=day,
                    round=1 + n // (len(COUNTRIES) * len(kinds) * 12775),
                    slug=f"{PREFIX}election-{n:05d}",
                    notes="Synthetic election.",
                )
            )
        Election.objects.bulk_create(rows, batch_size=1000)
        return list(Election.objects.filter(slug__startswith=PREFIX).order_by("slug"))

    def weights(self, count):
        """One body with about 15 % of everything, a few heavy ones, a long tail of light ones."""
        weights = [1 / (rank + 1) ** 1.1 for rank in range(count)]
        rest = sum(weights[1:])
        weights[0] = rest * 0.15 / 0.85
        return weights

    def make_missions(self, count, organisations, elections, rng):
        observers = organisations[:-2]
        weights = self.weights(len(observers))
        types = Mission.Type.values
        verdicts = [*Mission.Verdict.values, ""]
        seen, rows = set(), []
        while len(rows) < count:
            organisation = rng.choices(observers, weights)[0]
            election = elections[rng.randrange(len(elections))]
            mission_type = types[rng.randrange(len(types))]
            if (organisation.pk, election.pk, mission_type) in seen:
                continue
            seen.add((organisation.pk, election.pk, mission_type))
            rows.append(
                Mission(
                    organisation=organisation,
                    election=election,
                    mission_type=mission_type,
                    head=f"Synthetic head {len(rows)}",
                    core_team=rng.choice([None, rng.randint(5, 40)]),
                    long_term_observers=rng.choice([None, rng.randint(10, 80)]),
                    short_term_observers=rng.choice([None, rng.randint(50, 500)]),
                    verdict=rng.choice(verdicts),
                    status=Mission.Status.PUBLISHED if rng.random() < 0.97 else Mission.Status.DRAFT,
                    published_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
                )
            )
        Mission.objects.bulk_create(rows, batch_size=1000)
        return list(
            Mission.objects.filter(organisation__slug__startswith=PREFIX).select_related("election").order_by("pk")
        )

    def make_documents(self, count, missions, organisations, rng):
        kinds = Document.Kind.values
        third_parties = organisations[-2:]
        rows, owners = [], []
        for n in range(count):
            mission = missions[n % len(missions)] if n < len(missions) else missions[rng.randrange(len(missions))]
            third_party = n % 20 == 19
            publisher = third_parties[n % 2] if third_party else mission.organisation
            kind = Document.Kind.OP_ED if third_party else kinds[n % 4]
            offset = [-30, -10, 1, 90][kinds.index(kind)] if kind in kinds[:4] else 2
            rows.append(
                Document(
                    title=f"Synthetic {Document.Kind(kind).label.lower()} {n}",
                    kind=kind,
                    publisher=publisher,
                    date=mission.election.election_date + datetime.timedelta(days=offset),
                    url=f"https://synthetic.example.org/documents/{n}",
                    provenance=Document.Provenance.values[n % 4],
                    election=mission.election,
                    status=Document.Status.PUBLISHED if rng.random() < 0.98 else Document.Status.DRAFT,
                    published_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
                )
            )
            owners.append(mission)
        Document.objects.bulk_create(rows, batch_size=1000)
        documents = list(Document.objects.filter(publisher__slug__startswith=PREFIX).order_by("pk"))
        through = Document.missions.through
        through.objects.bulk_create(
            [through(document_id=d.pk, mission_id=m.pk) for d, m in zip(documents, owners, strict=True)],
            batch_size=5000,
        )
        return list(zip(documents, owners, strict=True))

    def sentences(self, rng, count=4000):
        """A pool of sentences of realistic lengths, most words common, a few rare."""
        pool = []
        for _ in range(count):
            words = [WORDS[min(int(rng.expovariate(0.05)), len(WORDS) - 1)] for _ in range(rng.randint(12, 60))]
            if rng.random() < 0.01:
                words[rng.randrange(len(words))] = rng.choice(RARE_WORDS)
            pool.append(" ".join(words).capitalize() + ".")
        return pool

    def make_excerpts(self, count, missions, documents, rng, batch):
        """Raw multi-row inserts: the ORM's per-field work would be most of the time at this size."""
        ops = connection.ops
        fields = {field.column: field for field in Excerpt._meta.concrete_fields}
        columns = list(fields)
        now = ops.adapt_datetimefield_value(datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
        pool = self.sentences(rng)
        stances = Excerpt.Stance.values
        fidelities = Excerpt.Fidelity.values
        topics = list(Topic.objects.values_list("pk", flat=True))
        prepared = []
        for document, mission in documents:
            election = mission.election
            prepared.append(
                (
                    document.pk,
                    mission.pk,
                    mission.organisation_id,
                    election.pk,
                    election.country.code,
                    ops.adapt_datefield_value(election.election_date),
                    ops.adapt_datefield_value(document.date),
                    document.kind,
                    document.provenance,
                    document.kind == Document.Kind.OP_ED,
                    mission.is_published and document.is_published,
                )
            )
        table = connection.ops.quote_name(Excerpt._meta.db_table)
        # Table and column names come from the model, never from input.
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        insert = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608  # nosec B608
        through = connection.ops.quote_name(Excerpt.topics.through._meta.db_table)
        topic_insert = f"INSERT INTO {through} (excerpt_id, topic_id) VALUES (%s, %s)"  # noqa: S608  # nosec B608
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608  # nosec B608
            next_id = cursor.fetchone()[0] + 1
        # Every row starts from this template; the loop fills in only what varies.
        template = dict.fromkeys(columns) | {
            "created_at": now,
            "updated_at": now,
            "language": "en",
            "translation": "",
            "translation_status": "",
            "paragraph": "",
            "fidelity_note": "",
        }
        missing = set(columns) - set(template)
        varying = ["id", "status", "published_at", "mission_id", "document_id", "text", "page", "stance",
                   "is_headline", "is_characterisation", "fidelity", "public", "organisation_id", "election_id",
                   "country", "election_date", "document_date", "document_kind", "provenance"]  # fmt: skip
        if missing - set(varying):
            raise CommandError(f"The generator does not know the excerpt columns {sorted(missing - set(varying))}.")
        position = {column: columns.index(column) for column in varying}
        base = [template[column] for column in columns]
        pages = [str(page) for page in range(1, 41)]
        # Stances: mostly positive or neutral, fewer critical, a few mixed.
        stance_by_draw = [stances[0]] * 50 + [stances[3]] * 20 + [stances[2]] * 22 + [stances[1]] * 8
        topic_sets = [rng.sample(topics, k) for k in [0, 1, 1, 1, 2, 2, 3] * 40]
        random_ = rng.random
        made = 0
        # The search index and the list indexes are built once at the end rather than row by row.
        with connection.cursor() as cursor, search.paused(cursor), indexes_paused(Excerpt), fast_writes(cursor):
            while made < count:
                rows, topic_rows = [], []
                for _ in range(min(batch, count - made)):
                    doc, mission, org, election, country, election_day, doc_day, kind, provenance, third, parents = (
                        prepared[int(random_() * len(prepared))]
                    )
                    published_row = random_() < 0.95
                    text = pool[int(random_() * len(pool))]
                    if random_() < 0.5:
                        text += " " + pool[int(random_() * len(pool))]
                    draw = random_()
                    row = base.copy()
                    row[position["id"]] = next_id
                    row[position["status"]] = "published" if published_row else "draft"
                    row[position["published_at"]] = now if published_row else None
                    row[position["mission_id"]] = mission
                    row[position["document_id"]] = doc
                    row[position["text"]] = text
                    row[position["page"]] = pages[int(draw * 40)]
                    row[position["stance"]] = stance_by_draw[int(random_() * 100)]
                    row[position["is_headline"]] = draw < 0.02
                    row[position["is_characterisation"]] = third
                    row[position["fidelity"]] = fidelities[int(draw * 7)] if third else ""
                    row[position["public"]] = published_row and parents
                    row[position["organisation_id"]] = org
                    row[position["election_id"]] = election
                    row[position["country"]] = country
                    row[position["election_date"]] = election_day
                    row[position["document_date"]] = doc_day
                    row[position["document_kind"]] = kind
                    row[position["provenance"]] = provenance
                    rows.append(row)
                    for topic in topic_sets[int(draw * len(topic_sets))]:
                        topic_rows.append((next_id, topic))
                    next_id += 1
                with transaction.atomic():
                    cursor.executemany(insert, rows)
                    cursor.executemany(topic_insert, topic_rows)
                made += len(rows)
                self.stdout.write(f"  {made:,} excerpts", ending="\r")
                self.stdout.flush()
            if connection.vendor == "postgresql":
                for statement in connection.ops.sequence_reset_sql(no_style(), [Excerpt, Excerpt.topics.through]):
                    cursor.execute(statement)
        self.stdout.write("")
        return made
