"""Streamed CSV and JSON downloads of a whole filtered list.

Rows are read and written a chunk at a time, and a chunk column by column: each column's values are
checked for their type once, and converted with functions that run in C (str.join, map, the json
module's string encoder). The output is what csv.writer and json.dumps write for the same values,
row by row; a column that mixes other kinds of value is converted cell by cell.

Columns that a chunk's rows share with few others (an excerpt's mission's, its document's) come as
`Shared`: they are written once for each of the few, and each row takes its one's text.

An export may read its rows' texts as the UTF-8 bytes the database holds (see response): the writers
then write bytes, and its texts are never decoded and encoded again.
"""

import csv
import datetime
import functools
import json
import operator
from contextlib import nullcontext, suppress
from itertools import chain, islice, repeat
from types import MappingProxyType

from django.db import connections, transaction
from django.db.models import CharField, Func, IntegerField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.db.models.sql.constants import MULTI
from django.http import StreamingHttpResponse

from .signals import kept_for_version

# Rows are written CHUNK at a time for the first FIRST_ROWS rows (FIRST_ROWS // CHUNK chunks), then
# LONG_CHUNK at a time; the database hands them out CHUNK at a time throughout.
# At a million excerpts, an export of 10,000 took 67–79 ms in chunks of 500 against 73–92 ms in chunks
# of 2,500 (SQLite and PostgreSQL), and far fewer of its runs took long (p95 69–82 ms against
# 121–142 ms). A long export reads its rows' missions and documents once per chunk: one of 190,000
# rows took 4.7 s on PostgreSQL in chunks of 500 throughout, 3.6 s in chunks of 2,500 and 3.75 s as
# read here.
CHUNK = 500
FIRST_ROWS = 10_000
LONG_CHUNK = 2500


def _sizes():
    return chain(repeat(CHUNK, FIRST_ROWS // CHUNK), repeat(LONG_CHUNK))


def _chunks(rows):
    """Lists of the iterator `rows`' items, a chunk at a time (see CHUNK)."""
    sizes = _sizes()
    return iter(lambda: list(islice(rows, next(sizes))), [])


def _row_chunks(queryset, raw_texts=False):
    """The rows of the values_list() `queryset` (tuples), a chunk at a time (see CHUNK), as the
    database's driver fetches them: Django's iterator would hand them on one by one (and copy each),
    only for them to be gathered in chunks again. Values that Django converts (none that exports
    read) go through its own iterator. With `raw_texts` (SQLite only), texts come as the UTF-8
    bytes the database holds (see response)."""
    connection = connections[queryset.db]
    compiler = queryset.query.get_compiler(queryset.db)
    # As QuerySet.iterator() does: a server-side cursor unless the database's settings disable them.
    chunked = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    fetches = compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=CHUNK)
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    if compiler.get_converters(fields) or compiler.has_composite_fields(fields):
        return _chunks(compiler.results_iter(fetches, tuple_expected=True))
    if raw_texts and chunked:
        # (Not chunked, every row has been read already, as text: the writers encode its texts.)
        fetches = _as_bytes(fetches, connection.connection)
    return _regrouped(fetches)


def _as_bytes(fetches, sqlite):
    """The lists `fetches` fetched with the SQLite connection `sqlite` giving texts as bytes: only
    while fetching them, as other queries run between the fetches."""
    while True:
        sqlite.text_factory = bytes
        try:
            rows = next(fetches, None)
        finally:
            sqlite.text_factory = str
        if rows is None:
            return
        yield rows


def _regrouped(fetches):
    """The rows of lists `fetches` in lists of the chunks' sizes."""
    sizes = _sizes()
    size, pending = next(sizes), []
    for rows in fetches:
        pending += rows
        while len(pending) >= size:
            chunk, pending = pending[:size], pending[size:]
            yield chunk
            size = next(sizes)
    if pending:
        yield pending


# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NONE = type(None)
DATE = datetime.date
# What the JSON encoder escapes (with ensure_ascii=False): anything else it writes as it is, in quotes.
_JSON_ESCAPED = [chr(code) for code in range(0x20)] + ['"', "\\"]


def _quoter(p):
    quote, doubled = p.quote, p.quote + p.quote
    quote_in, comma_in, lf_in, cr_in = p.csv_special_sought

    def quoted(text):
        # As csv.writer quotes (the "excel" dialect, minimal quoting): a field with a comma, a quote or
        # a line break goes in quotes, and its quotes are doubled.
        if quote_in in text:
            return quote + text.replace(quote, doubled) + quote
        if comma_in in text or lf_in in text or cr_in in text:
            return quote + text + quote
        return text

    return quoted


def _has_any(data, sought):
    """Whether the text or bytes `data` holds any of `sought` (as _Punctuation.sought gives them)."""
    return any(map(data.__contains__, sought))


class _Punctuation:
    """What the writers write and look for in texts: as text, or as UTF-8 bytes for texts read as
    bytes (see response)."""

    def __init__(self, make):
        self.make = make
        self.empty, self.nul, self.apostrophe, self.quote, self.comma, self.lf, self.cr = map(
            make, ("", "\0", "'", '"', ",", "\n", "\r")
        )
        self.formula_start = tuple(map(make, FORMULA_START))
        self.after_nul = [make("\0" + start) for start in FORMULA_START]
        self.formula_start_sought = self.sought(*FORMULA_START)
        self.csv_special_sought = self.sought('"', ",", "\n", "\r")
        self.json_escaped_sought = self.sought(*_JSON_ESCAPED)
        self.quoted = _quoter(self)

    def sought(self, *characters):
        """What `in` looks for, for each of the single `characters`: in bytes, the byte's number.
        Asked whether it holds a bytes object, bytes first tries it as a number, and raises and
        clears a TypeError: 6,000 times in a JSON export of 10,000 rows, 4.5 million instructions
        (of 228 million beyond the driver's fetching)."""
        if self.make is str:
            return list(characters)
        return [ord(character) for character in characters]  # ASCII, each one byte


_TEXT = _Punctuation(str)
_BYTES = _Punctuation(str.encode)


def _texts_kind(values):
    """The punctuation of a column whose first value is a text (or bytes), or None."""
    first = type(values[0]) if values else None
    return _TEXT if first is str else _BYTES if first is bytes else None


def _as_text(values):
    """A column that mixes texts read as bytes with other values, its bytes decoded: written as text."""
    return [value.decode() if type(value) is bytes else value for value in values]


def _encoded(cells):
    """A column's cells, written as text, as UTF-8 bytes (for a chunk written as bytes)."""
    return list(map(str.encode, cells)) if cells and type(cells[0]) is str else cells


class Column:
    """One column of an export. An export of model objects reads it with `value(obj)`; an export of
    plain values (see `response`) reads the values named `field` (the column's name if not given), or,
    for a column of a `group`, that field of each row's shared values (see Shared)."""

    def __init__(self, name, description, value=None, field=None, group=None):
        self.name = name
        self.description = description
        self.value = value
        self.field = field or name
        self.group = group


class Shared:
    """A chunk's values of one or more consecutive columns that its rows share with few others: each
    row's key (its mission's id, say), {key: that key's row, a mapping}, and the `fields` of the row
    that the columns show. A writer writes each key's values once, and each row as its key's text: a
    chunk of 500 excerpts names a few dozen missions.

    A row is never changed once given (a change gives a new row; the excerpt exports' rows are
    read-only mappings): a writer that has written a row, the same object, in this export or an
    earlier one while the record is unchanged, writes it as it did then (see _shared_texts)."""

    __slots__ = ("keys", "rows", "fields")

    def __init__(self, keys, rows, fields):
        self.keys = keys
        self.rows = rows
        self.fields = fields

    @property
    def width(self):
        return len(self.fields)


# How many keys of each run of shared columns a process remembers the written text of, for each way
# of writing them (see _written_memos), with their rows: on the synthetic record, 3.8 MB for 10,000
# documents' texts in JSON.
REMEMBERED_KEYS = 10_000


def _written_memos():
    """For one export: memo(format, bytes or texts, fields, …), the process's memo of the texts
    written of a run of shared columns in that way, {key: (row, text)} (see _shared_texts), kept as
    the exports' parents are (signals.kept_for_version): until the record next changes, and no longer
    than the cache keeps an entry. An export of 10,000 excerpts names hundreds of missions, documents
    and sets of topics and codes, and the next export of the list names the same ones: written once
    per process rather than once per export, they took its JSON from 363.5 to 341.5 million
    instructions. Each memo is looked up once per export."""
    memos = {}

    def memo(*signature):
        found = memos.get(signature)
        if found is None:
            (found,) = kept_for_version(f"export-written:{signature!r}")
            memos[signature] = found
        return found

    return memo


def _shared_texts(entry, write, memo):
    """Each row's text of the Shared `entry`: `write(table)` gives {key: text} for a table of keys'
    values (a list of one per field), and `memo` (see _written_memos) keeps them, with the rows they
    were written of: a key whose row is the one written is not written again, a key whose row is
    another (a change) is. Thread-safe: a row written twice at once is written the same way."""
    texts, new = {}, {}
    for key, row in entry.rows.items():
        known = memo.get(key)
        if known is not None and known[0] is row:
            texts[key] = known[1]
        else:
            new[key] = row
    if new:
        fields = entry.fields
        written = write({key: [row[field] for field in fields] for key, row in new.items()})
        if len(memo) + len(written) > REMEMBERED_KEYS:
            memo.clear()
        for key, text in written.items():
            memo[key] = (new[key], text)
        texts.update(written)
    return _looked_up(texts, entry.keys)


def _looked_up(mapping, keys):
    """[mapping[key] for key in keys], a tuple: an itemgetter looks them up in half the time of a
    map() of __getitem__ (a chunk's 500 rows' texts in each of an excerpt's six runs of shared
    columns)."""
    if len(keys) > 1:
        return operator.itemgetter(*keys)(mapping)
    return tuple(map(mapping.__getitem__, keys))


def _expanded(entry):
    """A column's values, each row's: a Shared's (of one column) made a list, as a column not shared."""
    if not isinstance(entry, Shared):
        return entry
    (field,) = entry.fields
    values = {key: row[field] for key, row in entry.rows.items()}
    return list(map(values.__getitem__, entry.keys))


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def id_list(ids):
    """Ids for an `__in` lookup, written into the SQL as numbers. Django prepares a list's values one
    by one, and PostgreSQL plans a thousand numbers faster than a thousand parameters."""
    # Numbers only, each made by int().
    return RawSQL(",".join(map(str, map(int, ids))), ())  # noqa: S611  # nosec B611


class DateText(Func):
    """A date read as its text, YYYY-MM-DD: what an export writes, without making a date object of
    every value first (on SQLite, a date is stored as that text)."""

    output_field = CharField()
    template = "CAST(%(expressions)s AS CHAR(10))"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS TEXT)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')", **extra)


class Flag(Cast):
    """A boolean read as 0 or 1 and made True or False a column at a time (see _value_chunks): the
    database adapter's conversion runs once per value."""

    def __init__(self, field):
        super().__init__(field, IntegerField())

    def get_db_converters(self, connection):
        # Not int() of every value: _FLAGS reads the numbers a column at a time.
        return []


_FLAGS = {0: False, 1: True, None: None}  # False and True are the keys 0 and 1


class _JsonArray(Func):
    function = "json_array"
    output_field = CharField()


class ValuesKey:
    """Several of a row's values read as one key: for values of which the rows have few combinations
    between them (codes and flags), the key to a group's values (see Shared), which the writers then
    write once per key; its `flags` made True or False (see Flag). Named in an export's fields as
    {group's name: ValuesKey(…)}: _value_chunks gives `fill` the group's values, as it gives those of
    other groups, or, where the key is not read, the fields' values as columns.

    Read as one key on SQLite only: the JSON array of the values, made by the database. There every
    column a row is read with costs its fetching (the driver lets go of the GIL and takes it again for
    each value): six such columns took a quarter of the instructions of an export of 10,000 excerpts,
    and read as one key the export takes 11 % fewer (in CSV 12.5 %). On PostgreSQL a column costs
    little to fetch, json_build_array() far more to make (30 % more of the server's time for such
    an export), and a key made in Python of the values more than it saves: there the fields are read
    one by one and written as columns of their own."""

    def __init__(self, *fields, flags=()):
        self.fields = fields
        self.flags = frozenset(flags)

    @staticmethod
    def as_key(connection):
        """Whether the key is read from `connection`, or the fields as columns (also on an SQLite
        without its JSON functions)."""
        return connection.vendor == "sqlite" and connection.features.supports_json_field

    def reads(self, name, connection):
        """{name: what to read} for the group `name`: the key, or each field."""
        if self.as_key(connection):
            return {name: _JsonArray(*self.fields)}
        return {field: Flag(field) if field in self.flags else field for field in self.fields}

    def group(self, name, values):
        """The group `name` in a chunk's `values`, its keys as reads() read them: (each row's key,
        {key: {field: value}})."""
        keys = values[name]
        values[name] = (keys, {key: _key_values(key, self.fields, self.flags) for key in set(keys)})


@functools.lru_cache(maxsize=4096)
def _key_values(key, fields, flags):
    """A ValuesKey's values, {field: value}, from its key: one mapping for a key, the same each time
    while the cache keeps it (so that the writers write its texts once: see Shared), and
    read-only, as every export shares it."""
    values = dict(zip(fields, json.loads(key), strict=True))
    for name in flags:
        values[name] = _FLAGS[values[name]]
    return MappingProxyType(values)


# CSV --------------------------------------------------------------------------------------------------

_CSV_FLAGS = {True: "yes", False: "no", None: ""}
_FIRST = operator.itemgetter(slice(0, 1))


class _Echo:
    def write(self, value):
        return value


def _csv_texts(texts, p=_TEXT):
    # Whether any value needs a change is asked once of the whole column, of its texts joined with a
    # NUL between them. A formula starts a text: at the start of the joined texts or after a NUL (a
    # text with a NUL of its own only sends its column the longer way, which looks at each text).
    # In a column of long texts, searching for two characters takes longer than taking each text's
    # first character, and the first characters are looked at instead. `p`: texts or bytes.
    joined = p.nul.join(texts)
    if len(joined) > 16 * len(texts):
        firsts = p.empty.join(map(_FIRST, texts))
        formula = _has_any(firsts, p.formula_start_sought)
    else:
        # Two characters each, looked for with find(): it takes bytes as they are, where `in` first
        # tries them as a number (see _Punctuation.sought).
        formula = joined.startswith(p.formula_start) or any(map((-1).__ne__, map(joined.find, p.after_nul)))
    if formula:
        texts = [p.apostrophe + text if text.startswith(p.formula_start) else text for text in texts]
        joined = p.empty.join(texts)
    if _has_any(joined, p.csv_special_sought):
        return list(map(p.quoted, texts))
    return texts


def _csv_cell(value):
    value = neutralise(_plain(value))
    if not isinstance(value, str):
        # What csv.writer writes for a value that is not a string.
        value = repr(value) if isinstance(value, float) else str(value)
    return _TEXT.quoted(value)


def _csv_column(values):
    """The cells of one column, as neutralise(_plain(value)) and then csv.writer make them: texts,
    or bytes for a column of texts read as bytes."""
    if p := _texts_kind(values):
        # Most columns are texts: written as texts, which fails at once on a value that is not one.
        with suppress(TypeError):
            return _csv_texts(values, p)
    kinds = set(map(type, values))
    if bytes in kinds:
        if kinds <= {bytes, NONE}:
            return _csv_texts([b"" if value is None else value for value in values], _BYTES)
        values = _as_text(values)
        kinds = set(map(type, values))
    if kinds <= {int}:
        return list(map(str, values))
    if kinds <= {int, NONE}:
        return ["" if value is None else str(value) for value in values]
    if kinds <= {bool, NONE}:
        return list(map(_CSV_FLAGS.__getitem__, values))
    if kinds <= {DATE, NONE}:
        return ["" if value is None else value.isoformat() for value in values]
    if kinds <= {str, NONE}:
        return _csv_texts(["" if value is None else value for value in values])
    if kinds <= {list}:
        if set(map(type, chain.from_iterable(values))) <= {str}:
            return _csv_texts(list(map("; ".join, values)))
        return _csv_texts(["; ".join(map(str, value)) for value in values])
    return list(map(_csv_cell, values))


def _csv_shared(table):
    """{key: its cells of a Shared's columns, joined}."""
    cells = map(_csv_column, map(list, zip(*table.values(), strict=True)))
    return dict(zip(table, map(",".join, zip(*cells, strict=True)), strict=True))


def _csv_shared_bytes(table):
    return {key: text.encode() for key, text in _csv_shared(table).items()}


def _csv_entry(entry, raw, memos):
    """A chunk's cells of one column, or of a Shared's columns (each row's cells joined); as bytes
    if `raw`. `memos`: the export's (see _written_memos)."""
    if isinstance(entry, Shared):
        memo = memos("csv", raw, tuple(entry.fields))
        return _shared_texts(entry, _csv_shared_bytes if raw else _csv_shared, memo)
    cells = _csv_column(entry)
    return _encoded(cells) if raw else cells


def _interleaved(columns, rows, separators, before=False):
    """The cells of `columns` (sequences of `rows` texts each) in one list, row after row, each cell
    followed by its column's separator (or preceded by it, `before`). Put in place a column at a
    time, by slices, rather than a row at a time: half the time of joining each row first."""
    width = 2 * len(columns)
    cells, separator = (1, 0) if before else (0, 1)
    out = [None] * (rows * width)
    for place, (column, text) in enumerate(zip(columns, separators, strict=True)):
        out[2 * place + cells :: width] = column  # a column of another length raises ValueError
        out[2 * place + separator :: width] = [text] * rows
    return out


def _csv_chunks(chunks, columns, raw=False):
    """The CSV of `chunks`, a text a chunk; bytes if `raw`, for chunks with texts read as bytes (see
    response)."""
    writer = csv.writer(_Echo())
    p = _BYTES if raw else _TEXT
    head = "\ufeff" + writer.writerow([column.name for column in columns])
    yield head.encode() if raw else head
    memos = _written_memos()
    for chunk in chunks:
        if len(columns) == 1:
            # csv.writer quotes a row's only field when it is empty.
            rows = "".join(writer.writerow([neutralise(_plain(value))]) for value in _as_text(_expanded(chunk[0])))
            yield rows.encode() if raw else rows
            continue
        cells = [_csv_entry(entry, raw, memos) for entry in chunk]
        separators = [p.comma] * len(cells[:-1]) + [p.cr + p.lf]
        yield p.empty.join(_interleaved(cells, len(cells[0]), separators))


# JSON -------------------------------------------------------------------------------------------------

_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_json_string = json.encoder.encode_basestring  # the encoder's own, for ensure_ascii=False
_JSON_CONSTANTS = {True: "true", False: "false", None: "null"}


def _json_strings(texts, p=_TEXT):
    """(values, bare): each text as _json_string writes it, or, when no text of the column has a
    character to escape (asked once, of all of them joined: a search for one character is far faster
    than a regular expression's), the texts themselves, bare, for the writer to put in quotes.
    `p`: texts or bytes (escaped as texts, then encoded again)."""
    joined = p.empty.join(texts)
    if not _has_any(joined, p.json_escaped_sought):
        return texts, True
    if p is _BYTES:
        return list(map(str.encode, map(_json_string, map(bytes.decode, texts)))), False
    return list(map(_json_string, texts)), False


def _json_column(values):
    """(values, bare): the values of one column, each as json.dumps(value, ensure_ascii=False,
    default=str) writes it, or bare texts to put in quotes (see _json_strings); texts, or bytes for
    a column of texts read as bytes."""
    if p := _texts_kind(values):
        # Most columns are texts: written as texts, which fails at once on a value that is not one.
        with suppress(TypeError):
            return _json_strings(values, p)
    kinds = set(map(type, values))
    if bytes in kinds:
        values = _as_text(values)
        kinds = set(map(type, values))
    if kinds <= {int}:
        encoded = list(map(int.__repr__, values))
    elif kinds <= {int, NONE}:
        encoded = ["null" if value is None else int.__repr__(value) for value in values]
    elif kinds <= {bool, NONE}:
        encoded = list(map(_JSON_CONSTANTS.__getitem__, values))
    elif kinds <= {str, NONE}:
        encoded = ["null" if value is None else _json_string(value) for value in values]
    elif kinds <= {DATE, NONE}:
        encoded = ["null" if value is None else '"' + value.isoformat() + '"' for value in values]
    elif kinds <= {list} and (items := set(map(type, chain.from_iterable(values)))) <= {str}:
        encoded = ["[" + ", ".join(map(_json_string, value)) + "]" for value in values]
    elif kinds <= {list} and items <= {int}:
        encoded = ["[" + ", ".join(map(int.__repr__, value)) + "]" for value in values]
    else:
        encoded = list(map(_JSON.encode, values))
    return encoded, False


def _json_shared(entry, names, raw, memos):
    """(values, False): each row's members of a Shared's columns, "name": value, …, written once per
    key (as bytes if `raw`); `names` are the columns' names, each as _json_chunks writes it."""

    def write(table):
        encoded = list(map(_json_column, map(list, zip(*table.values(), strict=True))))
        pieces = []
        for index, (name, (values, bare)) in enumerate(zip(names, encoded, strict=True)):
            quote = '"' if bare else ""
            pieces += (repeat((", " if index else "") + name + quote), values, repeat(quote))
        texts = map("".join, zip(*pieces, strict=False))  # endless repeats
        return dict(zip(table, map(str.encode, texts) if raw else texts, strict=True))

    memo = memos("json", raw, tuple(entry.fields), tuple(names))
    return _shared_texts(entry, write, memo), False


def _json_chunks(chunks, columns, raw=False):
    """The JSON of `chunks`, a text a chunk; bytes if `raw`, for chunks with texts read as bytes (see
    response)."""
    # A record is its keys and values side by side: {"id": 1, "url": "/excerpts/1/", …}. A chunk's
    # records are its values and what goes between them, a record after another, joined at once; a
    # bare text's quotes are part of what goes before and after it. A Shared's members come whole, with
    # their names: its name here is empty.
    column_names = [_json_string(column.name) + ": " for column in columns]
    p = _BYTES if raw else _TEXT
    yield b"[\n" if raw else "[\n"
    first = True
    memos = _written_memos()
    for chunk in chunks:
        rows = len(chunk[0].keys if isinstance(chunk[0], Shared) else chunk[0])
        names, encoded, place = [], [], 0
        for entry in chunk:
            if isinstance(entry, Shared):
                names.append("")
                written = _json_shared(entry, column_names[place : place + entry.width], raw, memos)
                place += entry.width
            else:
                names.append(column_names[place])
                written = _json_column(entry)
                if raw:
                    written = _encoded(written[0]), written[1]
                place += 1
            encoded.append(written)
        quotes = ['"' if bare else "" for _, bare in encoded]
        befores = [
            quotes[index - 1] + ("},\n{" if index == 0 else ", ") + name + quotes[index]
            for index, name in enumerate(names)
        ]
        # The chunk's first record closes no record before it.
        opening = ("{" if first else ",\n{") + names[0] + quotes[0]
        closing = quotes[-1] + "}"
        if raw:
            befores, opening, closing = list(map(str.encode, befores)), opening.encode(), closing.encode()
        records = _interleaved([values for values, _ in encoded], rows, befores, before=True)
        records[0] = opening
        records.append(closing)  # in the join: added after, it copied the chunk once more
        yield p.empty.join(records)
        first = False
    yield b"\n]\n" if raw else "\n]\n"


# Reading ----------------------------------------------------------------------------------------------


def _parts(columns):
    """The columns in runs: [(group, [columns])], each column alone unless it and the ones beside it
    are of one group."""
    parts = []
    for column in columns:
        if column.group is not None and parts and parts[-1][0] == column.group:
            parts[-1][1].append(column)
        else:
            parts.append((column.group, [column]))
    return parts


def plain_rows(queryset, fields):
    """`queryset.values_list()` of `fields`, {name: what to read}: a field's path or an expression.
    An expression is read under an alias of its own, so that its name may also be a model field's."""
    expressions = {f"_export_{name}": read for name, read in fields.items() if not isinstance(read, str)}
    paths = [read if isinstance(read, str) else f"_export_{name}" for name, read in fields.items()]
    return queryset.annotate(**expressions).values_list(*paths)


def _value_chunks(queryset, columns, fields, fill, raw=False):
    """Chunks of columns read as plain values; `fill(values)` adds to a chunk's values (a dict of
    field: values, and of group: (keys, {key: {field: value}}) for the columns of a group) what it
    needs from other tables, a few queries per chunk at most. `fields` are field names, or {name: what
    to read} (see plain_rows), such as {"is_headline": Flag("is_headline")}, or {group: ValuesKey(…)},
    whose group `fill` finds in the values already. A group's rows are shared by chunks and exports
    (see Shared): `fill` must not change a row once given, and gives a new one for a change. With
    `raw` (SQLite only), the rows' texts come as bytes (see response); what `fill` gives for a group
    is never read as bytes."""
    if not isinstance(fields, dict):
        fields = {name: name for name in fields}
    connection = connections[queryset.db]
    value_keys = {name: read for name, read in fields.items() if isinstance(read, ValuesKey)}
    keyed = {name: read for name, read in value_keys.items() if read.as_key(connection)}
    # The groups whose fields are read as columns, as other columns are (see ValuesKey).
    as_columns = value_keys.keys() - keyed.keys()
    fields = {
        read_as: what
        for name, read in fields.items()
        for read_as, what in (read.reads(name, connection) if name in value_keys else {name: read}).items()
    }
    names = list(fields)
    flags = [name for name, read in fields.items() if isinstance(read, Flag)]
    parts = [(group, [column.field for column in run]) for group, run in _parts(columns)]
    with _reading(queryset.db):
        for chunk in _row_chunks(plain_rows(queryset, fields), raw_texts=raw):
            values = dict(zip(names, zip(*chunk, strict=True), strict=True))
            for name in flags:
                values[name] = list(map(_FLAGS.__getitem__, values[name]))
            for name, values_key in keyed.items():
                values_key.group(name, values)
            fill(values)
            entries = []
            for group, run in parts:
                if group is None or group in as_columns:
                    # A column, or a group's columns read as columns (see ValuesKey).
                    entries += [values[field] for field in run]
                else:
                    # `fill` gives a group's values as (each row's key, {key: {field: value}}).
                    entries.append(Shared(*values[group], run))
            yield entries


def _object_chunks(queryset, columns):
    with _reading(queryset.db):
        for chunk in _chunks(queryset.iterator(chunk_size=CHUNK)):
            yield [list(map(column.value, chunk)) for column in columns]


def _reading(using):
    """What a download reads, read in a transaction: on PostgreSQL, a cursor outside one is held (WITH
    HOLD), which writes its whole result aside before sending the first row (10 ms of 10,000 excerpts'
    55 at 1M). A download cut short ends it: the response closes the generator, and the transaction
    with it. (SQLite has no such cost, and measured no gain.)"""
    return transaction.atomic(using=using) if connections[using].vendor == "postgresql" else nullcontext()


def response(queryset, columns, fmt, filename, values=None, texts_as_bytes=False):
    """A streamed download of `queryset`'s rows: model objects, or the plain `values`, (fields,
    fill(chunk)) (see _value_chunks).

    With `texts_as_bytes`, on SQLite, an export of plain values reads its rows' texts as the UTF-8
    bytes the database holds and writes them as they are (its `fill` must take them as bytes). Read
    as text, each is decoded, and the chunk it is written in encoded again whole, a character at a
    time once the chunk holds one character beyond ASCII: 12 MB of a chunk that is all ASCII encode
    in about 1.6 ms here, with a single "ü" in about 20 ms, and in Russian in about 33 ms. PostgreSQL's
    driver hands out bytes only from binary cursors, which Django's cursors are not."""
    # Connect (or check the connection) here, in the view: a database that does not answer gets its error
    # page rather than a download cut short after its headers.
    connection = connections[queryset.db]
    with connection.cursor():
        pass
    raw = bool(values) and texts_as_bytes and connection.vendor == "sqlite"
    if values:
        fields, fill = values
        chunks = _value_chunks(queryset, columns, fields, fill, raw=raw)
    else:
        chunks = _object_chunks(queryset, columns)
    if fmt == "csv":
        content, content_type = _csv_chunks(chunks, columns, raw), "text/csv; charset=utf-8"
    else:
        content, content_type = _json_chunks(chunks, columns, raw), "application/json; charset=utf-8"
    result = StreamingHttpResponse(content, content_type=content_type)
    result["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return result
