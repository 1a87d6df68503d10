"""The exports write, column by column, what csv.writer and json.dumps write row by row."""

import contextlib
import csv
import datetime
import decimal
import io
import json
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.safestring import mark_safe

from observers import export
from observers.export import Column
from observers.models import Document, Election, Excerpt, Mission

AWKWARD = [
    "",
    "plain",
    "with, comma",
    'with "quotes"',
    '"',
    "line\nbreak",
    "carriage\rreturn",
    "\r\n",
    "=1+1",
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTab",
    "\rReturn",
    "'quoted already",
    " leading space",
    "nul\0inside",
    "\0",
    "back\\slash",
    "control \x01\x1f\x7f",
    "Қазақстан, «выборы»",
    "emoji 🗳️",
    "\u2028separator",
]


def reference_csv(rows, columns):
    """The exports' CSV as it was written row by row."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow([column.name for column in columns])
    for row in rows:
        writer.writerow([export.neutralise(export._plain(value)) for value in row])
    return out.getvalue()


def reference_json(rows, columns):
    records = [
        json.dumps(
            {column.name: value for column, value in zip(columns, row, strict=True)}, ensure_ascii=False, default=str
        )
        for row in rows
    ]
    return "[\n" + ",\n".join(records) + "\n]\n"


def as_read_raw(chunks):
    """`chunks` as an export that reads its texts as bytes has them (see export.response): every text
    of a column not shared is bytes (a Shared's, which `fill` gives, are not)."""

    def raw(value):
        return value.encode() if type(value) is str else value

    return [
        [entry if isinstance(entry, export.Shared) else list(map(raw, entry)) for entry in chunk] for chunk in chunks
    ]


def written_both_ways(chunks, columns):
    """The CSV and the JSON of `chunks`, checked to be the same when their texts are read as bytes."""
    csv_text = "".join(export._csv_chunks(iter(chunks), columns))
    json_text = "".join(export._json_chunks(iter(chunks), columns))
    assert b"".join(export._csv_chunks(iter(as_read_raw(chunks)), columns, raw=True)) == csv_text.encode()
    assert b"".join(export._json_chunks(iter(as_read_raw(chunks)), columns, raw=True)) == json_text.encode()
    return csv_text, json_text


def written(rows, columns, chunk):
    chunks = [[list(values) for values in zip(*rows[i : i + chunk], strict=True)] for i in range(0, len(rows), chunk)]
    return written_both_ways(chunks, columns)


def random_value(rng, kind):
    if kind == "text":
        return rng.choice(AWKWARD) + rng.choice(["", " x", ", y", '"z"'])
    if kind == "text or none":
        return rng.choice([None, rng.choice(AWKWARD)])
    if kind == "int":
        return rng.randint(-5, 10**12)
    if kind == "int or none":
        return rng.choice([None, rng.randint(-5, 5)])
    if kind == "flag":
        return rng.choice([True, False])
    if kind == "flag or none":
        return rng.choice([True, False, None])
    if kind == "date":
        return rng.choice([None, datetime.date(2024, 1, rng.randint(1, 31))])
    if kind == "list of text":
        return rng.sample(AWKWARD, rng.randint(0, 3))
    if kind == "list of ints":
        return rng.sample(range(-3, 100), rng.randint(0, 3))
    # A column of anything: the cell-by-cell path.
    return rng.choice(
        [
            None,
            True,
            3,
            2.5,
            float("nan"),
            decimal.Decimal("1.10"),
            datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC),
            datetime.date(2024, 5, 1),
            mark_safe("<b>safe, text</b>"),
            "=text",
            ["a", 1, None],
            (1, "b"),
        ]
    )


KINDS = [
    "text",
    "text or none",
    "int",
    "int or none",
    "flag",
    "flag or none",
    "date",
    "list of text",
    "list of ints",
    "anything",
]


@pytest.mark.parametrize("seed", range(20))
def test_columns_are_written_as_rows_were(seed):
    rng = random.Random(seed)
    columns = [Column(f"{kind} {n}", "") for n, kind in enumerate(KINDS)]
    rows = [[random_value(rng, kind) for kind in KINDS] for _ in range(rng.randint(1, 60))]
    csv_text, json_text = written(rows, columns, chunk=rng.randint(1, 25))
    assert csv_text == reference_csv(rows, columns)
    assert json_text == reference_json(rows, columns)


def test_a_column_of_one_kind_throughout():
    columns = [Column("text", ""), Column("flag", ""), Column("number", "")]
    rows = [[text, n % 2 == 0, n] for n, text in enumerate(AWKWARD)]
    csv_text, json_text = written(rows, columns, chunk=7)
    assert csv_text == reference_csv(rows, columns)
    assert json_text == reference_json(rows, columns)


def test_texts_with_nothing_to_escape_and_texts_with_something():
    # A chunk whose texts need no escaping writes them bare between quotes of its own; a chunk with one
    # that does, and the chunks after it, are written as the encoder writes them.
    columns = [Column("text", ""), Column("note", ""), Column("number", "")]
    plain = [[f"Plain text {n}, with a comma", f"note {n}", n] for n in range(10)]
    rows = plain[:4] + [['A "quoted" word', "line\nbreak", 4], ["back\\slash", "tab\there", 5]] + plain[6:]
    for chunk in (1, 3, 4, 20):
        assert written(rows, columns, chunk) == (reference_csv(rows, columns), reference_json(rows, columns))


def test_a_single_column_and_no_rows():
    columns = [Column("only", "")]
    rows = [[""], [None], ["=x"], ["a,b"]]
    assert written(rows, columns, chunk=3) == (reference_csv(rows, columns), reference_json(rows, columns))
    assert written([], columns, chunk=3) == (reference_csv([], columns), reference_json([], columns))


def shared_chunks(rows, columns, chunk, groups):
    """Chunks as an export of plain values yields them: each run of `groups` (a width, or 0 for a
    column alone) as a Shared, keyed by its values."""
    chunks = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        entries, place = [], 0
        for width in groups:
            if width == 0:
                entries.append([row[place] for row in part])
                place += 1
                continue
            fields = [column.field for column in columns[place : place + width]]
            keys = [repr(row[place : place + width]) for row in part]
            rows_of_keys = {
                key: dict(zip(fields, row[place : place + width], strict=True))
                for key, row in zip(keys, part, strict=True)
            }
            entries.append(export.Shared(keys, rows_of_keys, fields))
            place += width
        chunks.append(entries)
    return chunks


@pytest.mark.parametrize("seed", range(20))
def test_shared_columns_are_written_as_rows_were(seed):
    # Columns shared by rows (an excerpt's mission's, say) are written once per key, and each row takes
    # its key's text: the same bytes as row by row. A Shared of one column too, one first of all, and
    # one that is the only column.
    rng = random.Random(seed)
    kinds = [rng.choice(KINDS[:-1]) for _ in range(rng.randint(1, 7))]
    groups = [rng.choice([0, 1, 2, 3]) for _ in range(rng.randint(1, 4))]
    width = sum(groups) + groups.count(0)
    kinds = (kinds * width)[:width]
    columns = [Column(f"{kind} {n}", "") for n, kind in enumerate(kinds)]
    parents = [[random_value(rng, kind) for kind in kinds] for _ in range(rng.randint(1, 5))]
    rows = []
    for _ in range(rng.randint(1, 40)):
        row = list(rng.choice(parents))
        # Columns not shared vary row by row.
        place = 0
        for size in groups:
            if size == 0:
                row[place] = random_value(rng, kinds[place])
            place += size or 1
        rows.append(row)
    chunks = shared_chunks(rows, columns, rng.randint(1, 15), groups)
    assert written_both_ways(chunks, columns) == (reference_csv(rows, columns), reference_json(rows, columns))


def counting_writes(monkeypatch):
    """The keys whose shared columns the writers write, as they write them: a list, one per write."""
    writes = []
    shared_texts = export._shared_texts

    def counted(entry, write, memo):
        def write_counted(table):
            writes.append(list(table))
            return write(table)

        return shared_texts(entry, write_counted, memo)

    monkeypatch.setattr(export, "_shared_texts", counted)
    return writes


def parents_chunks(rows, parents, columns, chunk):
    """Chunks of `rows`, (parent's number, own value, own value), with the parent's columns (the
    middle two of `columns`) as a Shared of the `parents` rows themselves, keyed by their numbers."""
    fields = [column.field for column in columns[1:3]]
    chunks = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        keys = [parent for parent, _, _ in part]
        shared = export.Shared(keys, {key: parents[key] for key in keys}, fields)
        chunks.append([[first for _, first, _ in part], shared, [last for _, _, last in part]])
    return chunks


@pytest.mark.parametrize("seed", range(10))
def test_a_row_written_once_serves_the_chunks_and_exports_after(monkeypatch, seed):
    # The writers remember, for the process, the texts of the shared rows they wrote, with the rows: a
    # row given again, the same object, in a later chunk or a later export is not written again; a row
    # that is another object under the same key (a change) is. The bytes are always those written row
    # by row, also when the writers remember only a few keys.
    # The writers' memos, the same for every export until the record changes (see
    # signals.kept_for_version), fresh for this test.
    memos = {}
    monkeypatch.setattr(export, "kept_for_version", lambda name: [memos.setdefault(name, {})])
    rng = random.Random(seed)
    remembered = rng.choice([1, 3, 10_000])
    monkeypatch.setattr(export, "REMEMBERED_KEYS", remembered)
    writes = counting_writes(monkeypatch)
    kinds = [rng.choice(KINDS[:-1]) for _ in range(4)]
    columns = [Column(f"{kind} {n}", "") for n, kind in enumerate(kinds)]
    columns[1].field, columns[2].field = "a", "b"
    parents = {number: {"a": random_value(rng, kinds[1]), "b": random_value(rng, kinds[2])} for number in range(6)}
    rows = [
        (rng.randrange(6), random_value(rng, kinds[0]), random_value(rng, kinds[3])) for _ in range(rng.randint(10, 40))
    ]
    size = rng.randint(1, 6)

    def expected():
        return [[first, parents[parent]["a"], parents[parent]["b"], last] for parent, first, last in rows]

    def exported():
        del writes[:]
        result = written_both_ways(parents_chunks(rows, parents, columns, size), columns)
        assert result == (reference_csv(expected(), columns), reference_json(expected(), columns))
        return [key for keys in writes for key in keys]

    named = {parent for parent, _, _ in rows}
    first = exported()
    if remembered == 10_000:
        # Each parent once for each of the four ways of writing (CSV and JSON, as texts and as bytes).
        assert sorted(first) == sorted([*named] * 4)
        assert exported() == []
        changed = rng.choice(sorted(named))
        parents[changed] = dict(parents[changed])
        assert exported() == [changed] * 4
        parents[changed] = {"a": random_value(rng, kinds[1]), "b": random_value(rng, kinds[2])}
        assert exported() == [changed] * 4
    else:
        assert len(first) >= len(named) * 4
        assert len(exported()) >= len(named) * 4 - 4 * remembered


class FakeRows:
    """What plain_rows gives, for _value_chunks: rows of (id, parent's key)."""

    db = "default"

    def __init__(self, rows):
        self.rows = rows


def random_chunk_sizes(monkeypatch, rng):
    """Small chunk sizes, at random: CHUNK rows at a time for the first FIRST_ROWS, then LONG_CHUNK."""
    monkeypatch.setattr(export, "CHUNK", rng.randint(1, 5))
    monkeypatch.setattr(export, "FIRST_ROWS", rng.randint(0, 12))
    monkeypatch.setattr(export, "LONG_CHUNK", rng.randint(1, 9))


def fetched(rows):
    """The rows in lists of CHUNK, as _row_chunks has the driver fetch them."""
    return [rows[start : start + export.CHUNK] for start in range(0, len(rows), export.CHUNK)]


def streamed(seed, fmt, layout):
    """An export of rows whose parents' columns (group "g": a, b) `fill` gives a chunk at a time, the
    same row objects again or, at random, new ones (a change while it streams); and the rows as
    written row by row."""
    rng = random.Random(seed)
    rows = [(n, rng.randint(1, 6)) for n in range(rng.randint(1, 40))]
    parents = {key: {"a": random_value(rng, "text"), "b": random_value(rng, "int or none")} for key in range(1, 7)}
    expected = []

    def fill(values):
        keys = list(values["parent"])
        for key in set(keys):
            if rng.random() < 0.3:
                parents[key] = {"a": random_value(rng, "text"), "b": random_value(rng, "int or none")}
        values["g"] = (keys, {key: parents[key] for key in set(keys)})
        for pk, key in zip(values["id"], keys, strict=True):
            row = {"id": pk, **parents[key]}
            expected.append([row[column.field] for column in layout])

    chunks = export._value_chunks(FakeRows(rows), layout, ["id", "parent"], fill)
    writer = export._csv_chunks if fmt == "csv" else export._json_chunks
    return "".join(writer(chunks, layout)), expected


@pytest.mark.parametrize("seed", range(30))
def test_rows_given_again_are_written_as_before_and_new_ones_anew(monkeypatch, seed):
    # The writers write again only the parents' rows they have not written (see Shared): a row `fill`
    # gives again, the same object, is written as before, a new one anew, and past REMEMBERED_KEYS
    # rows again. Chunks of any size, and a group's columns in one run or in two.
    rng = random.Random(seed)
    random_chunk_sizes(monkeypatch, rng)
    monkeypatch.setattr(export, "REMEMBERED_KEYS", rng.randint(1, 8))
    monkeypatch.setattr(export, "plain_rows", lambda queryset, fields: queryset)
    monkeypatch.setattr(export, "_row_chunks", lambda queryset, raw_texts: export._regrouped(fetched(queryset.rows)))
    monkeypatch.setattr(export, "_reading", lambda using: contextlib.nullcontext())
    a, b, pk = Column("a", "", group="g"), Column("b", "", group="g"), Column("id", "")
    layout = rng.choice([[pk, a, b], [a, b, pk], [a, pk, b], [b, pk, a]])
    csv_text, rows = streamed(seed, "csv", layout)
    assert csv_text == reference_csv(rows, layout)
    json_text, rows = streamed(seed, "json", layout)
    assert json_text == reference_json(rows, layout)


def test_election_export_counts_published_missions(client, election_factory, mission_factory):
    observed = election_factory()
    mission_factory(election=observed, status=Mission.Status.PUBLISHED)
    mission_factory(election=observed, status=Mission.Status.PUBLISHED)
    mission_factory(election=observed, status=Mission.Status.DRAFT)
    unobserved = election_factory()
    mission_factory(election=unobserved, status=Mission.Status.DRAFT)
    response = client.get(reverse("observers:election_export", kwargs={"format": "csv"}))
    rows = {
        row["slug"]: row
        for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff")))
    }
    for election in Election.objects.all():
        row = rows[election.slug]
        assert row["country"] == election.country.code
        assert row["country_name"] == election.country.name
        assert row["election_date"] == election.election_date.isoformat()
        assert row["early"] == ("yes" if election.is_early else "no")
    assert rows[observed.slug]["missions"] == "2"
    assert rows[unobserved.slug]["missions"] == "0"


# The columns the excerpt exports read from the excerpt's own row.
OWN = [
    "id",
    "url",
    "text",
    "language",
    "translation",
    "translation_status",
    "stance",
    "headline",
    "characterisation",
    "fidelity",
    "fidelity_note",
    "page",
    "paragraph",
]


def _cut(value, field):
    return value[: Excerpt._meta.get_field(field).max_length or None]


@pytest.mark.parametrize("name", ["excerpt", "characterisation"])
def test_an_excerpts_own_columns_are_exported_exactly(client, mission_factory, document_factory, excerpt_factory, name):
    # Every awkward text in every column of the excerpt's own row, as each database gives it back,
    # through the real exports: the JSON is what json.dumps writes, and the CSV what csv.writer
    # writes, with what a spreadsheet would read as a formula after an apostrophe.
    mission = mission_factory(status=Mission.Status.PUBLISHED)
    # A document of the mission's own organisation, and another's: its passages are characterisations.
    own = document_factory(publisher=mission.organisation, status=Document.Status.PUBLISHED)
    third_party = document_factory(status=Document.Status.PUBLISHED)
    awkward = [value for value in AWKWARD if "\0" not in value or connection.vendor == "sqlite"]
    excerpts = []
    for n, value in enumerate(awkward):
        excerpts.append(
            excerpt_factory(
                mission=mission,
                document=third_party if name == "characterisation" or n % 2 else own,
                status=Excerpt.Status.PUBLISHED,
                is_headline=n % 3 == 0,
                translation_status=Excerpt.TranslationStatus.OFFICIAL,
                **{
                    field: _cut(value if n % 4 else value[::-1], field)
                    for field in ("text", "translation", "fidelity_note", "page", "paragraph")
                },
            )
        )
        # Values no form accepts, as an import or an older record might hold them (a translation
        # needs a status: not an empty one).
        short = [value for value in awkward if value][(n + 5) % (len(awkward) - 1)]
        Excerpt.objects.filter(pk=excerpts[-1].pk).update(
            **{field: _cut(short, field) for field in ("language", "translation_status", "stance", "fidelity")}
        )
    expected = {}
    for excerpt in Excerpt.objects.filter(pk__in=[e.pk for e in excerpts]):
        expected[excerpt.pk] = {
            "id": excerpt.pk,
            "url": excerpt.get_absolute_url(),
            "text": excerpt.text,
            "language": excerpt.language,
            "translation": excerpt.translation,
            "translation_status": excerpt.translation_status,
            "stance": excerpt.stance,
            "headline": excerpt.is_headline,
            "characterisation": excerpt.is_characterisation,
            "fidelity": excerpt.fidelity,
            "fidelity_note": excerpt.fidelity_note,
            "page": excerpt.page,
            "paragraph": excerpt.paragraph,
        }

    url = reverse(f"observers:{name}_export", kwargs={"format": "json"})
    body = b"".join(client.get(url).streaming_content).decode()
    records = json.loads(body)
    assert {record["id"] for record in records} == set(expected)
    for record in records:
        assert {key: record[key] for key in OWN} == expected[record["id"]]
    assert body == "[\n" + ",\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n]\n"

    url = reverse(f"observers:{name}_export", kwargs={"format": "csv"})
    body = b"".join(client.get(url).streaming_content).decode()
    header, *rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"), newline="")))
    assert len(rows) == len(expected)
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        want = expected[int(cells["id"])]
        assert {key: cells[key] for key in OWN} == {
            key: export.neutralise(export._plain(value)) if key != "id" else str(value) for key, value in want.items()
        }

    assert body == reference_csv(rows, [Column(name, "") for name in header])


def test_an_excerpts_labels_are_read_as_one_key_on_sqlite_and_as_columns_on_postgresql(
    client, monkeypatch, mission_factory, document_factory, excerpt_factory
):
    # Its codes and flags (views.EXCERPT_LABELS): on SQLite the database's JSON array of them, a
    # column where there were six, each combination's columns written once and then as before in the
    # chunks after (two rows a chunk here); each row's are its own.
    monkeypatch.setattr(export, "CHUNK", 2)
    mission = mission_factory(status=Mission.Status.PUBLISHED)
    own = document_factory(publisher=mission.organisation, status=Document.Status.PUBLISHED)
    third_party = document_factory(status=Document.Status.PUBLISHED)
    combinations = [
        ("en", "", "critical", True, own, ""),
        ("ru", "official", "positive", False, third_party, "selective"),
        ("en", "", "critical", False, third_party, ""),
        ("kk", "unofficial", "mixed", False, own, ""),
    ]
    for language, status, stance, headline, document, fidelity in combinations * 3:
        excerpt = excerpt_factory(
            mission=mission,
            document=document,
            status=Excerpt.Status.PUBLISHED,
            language=language,
            translation_status=status,
            stance=stance,
            is_headline=headline,
        )
        Excerpt.objects.filter(pk=excerpt.pk).update(fidelity=fidelity)
    labels = ("language", "translation_status", "stance", "is_headline", "is_characterisation", "fidelity")
    expected = {pk: rest for pk, *rest in Excerpt.objects.values_list("pk", *labels)}
    assert len({tuple(rest) for rest in expected.values()}) == 4

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("observers:excerpt_export", kwargs={"format": "json"}))
        records = json.loads(b"".join(response.streaming_content))
    (read,) = [query["sql"] for query in queries if "topic_ids" in query["sql"]]
    if connection.vendor == "sqlite":
        assert read.count("json_array(") == 1 and read.count('"observers_excerpt"."stance"') == 1
    else:
        assert "json" not in read and read.count('"observers_excerpt"."stance"') == 1
    names = ("language", "translation_status", "stance", "headline", "characterisation", "fidelity")
    assert {record["id"]: [record[name] for name in names] for record in records} == expected

    response = client.get(reverse("observers:excerpt_export", kwargs={"format": "csv"}))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"), newline="")))
    flag = {True: "yes", False: "no"}
    assert {int(row["id"]): [row[name] for name in names] for row in rows} == {
        pk: [flag.get(value, value) if type(value) is bool else value for value in rest]
        for pk, rest in expected.items()
    }


def test_without_the_databases_json_functions_the_labels_are_read_as_columns(
    client, monkeypatch, mission_factory, document_factory, excerpt_factory
):
    mission = mission_factory(status=Mission.Status.PUBLISHED)
    document = document_factory(status=Document.Status.PUBLISHED)
    for stance in ("critical", "positive", "critical"):
        excerpt_factory(mission=mission, document=document, status=Excerpt.Status.PUBLISHED, stance=stance)

    def export_read():
        with CaptureQueriesContext(connection) as queries:
            for fmt in ("json", "csv"):
                response = client.get(reverse("observers:excerpt_export", kwargs={"format": fmt}))
                yield b"".join(response.streaming_content)
        # Each export's read of its rows (on PostgreSQL, each names a cursor of its own).
        reads = [query["sql"] for query in queries if "topic_ids" in query["sql"]]
        assert len(reads) == 2
        yield reads

    *with_json, reads = export_read()
    monkeypatch.setattr(connection.features, "supports_json_field", False)
    *without_json, reads_without = export_read()
    assert without_json == with_json
    for read, read_without in zip(reads, reads_without, strict=True):
        assert "json" not in read_without.lower() and read_without.count('"observers_excerpt"."stance"') == 1
        assert ("json_array(" in read) == (connection.vendor == "sqlite")


@pytest.mark.parametrize("name", ["excerpt", "characterisation"])
def test_on_sqlite_an_excerpt_export_reads_its_texts_as_bytes(
    client, monkeypatch, mission_factory, document_factory, excerpt_factory, topic_factory, name
):
    # The rows' texts come from the driver as the UTF-8 bytes SQLite holds, and are written as they are;
    # queries between the fetches (a row at a time here: each reads its row's parents and topics), and
    # after them, read texts as text.
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's exports read texts as text")
    monkeypatch.setattr(export, "CHUNK", 1)
    fetched_kinds = []
    real = export._as_bytes

    def spy(fetches, sqlite):
        for rows in real(fetches, sqlite):
            fetched_kinds.extend(type(value) for row in rows for value in row)
            yield rows

    monkeypatch.setattr(export, "_as_bytes", spy)
    mission = mission_factory(status=Mission.Status.PUBLISHED)
    document = document_factory(status=Document.Status.PUBLISHED)
    topics = [topic_factory(name="Média"), topic_factory(name="Counting")]
    for n, text in enumerate(("Қазақстан, «выборы»", 'A "quoted" word', "plain")):
        excerpt = excerpt_factory(mission=mission, document=document, status=Excerpt.Status.PUBLISHED, text=text)
        excerpt.topics.set(topics[:n])
    url = reverse(f"observers:{name}_export", kwargs={"format": "json"})
    records = json.loads(b"".join(client.get(url).streaming_content))
    assert {record["text"]: record["topics"] for record in records} == {
        "Қазақстан, «выборы»": [],
        'A "quoted" word': ["Média"],
        "plain": ["Counting", "Média"],
    }
    assert {record["document"] for record in records} == {document.title}
    assert bytes in fetched_kinds and str not in fetched_kinds
    assert type(Excerpt.objects.values_list("text", flat=True).first()) is str


@pytest.mark.parametrize("seed", range(20))
def test_fetched_rows_are_regrouped_in_the_chunks_sizes(monkeypatch, seed):
    # The driver's fetches (of CHUNK rows, the last one shorter) become the same chunks as the rows
    # taken one by one would: CHUNK rows at a time for the first FIRST_ROWS, then LONG_CHUNK.
    rng = random.Random(seed)
    random_chunk_sizes(monkeypatch, rng)
    rows = [(n,) for n in range(rng.randint(0, 60))]
    regrouped = list(export._regrouped(iter(fetched(rows))))
    assert regrouped == list(export._chunks(iter(rows)))
    assert [row for chunk in regrouped for row in chunk] == rows
