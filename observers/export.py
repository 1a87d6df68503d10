"""Streamed CSV and JSON downloads of a whole filtered list.

Rows are read and written a chunk at a time, and a chunk column by column: each column's values are
checked for their type once, and converted with functions that run in C (str.join, map, the json
module's string encoder). The output is what csv.writer and json.dumps write for the same values,
row by row; a column that mixes other kinds of value is converted cell by cell.
"""

import csv
import datetime
import json
import operator
from itertools import chain, islice, repeat

from django.db import connections
from django.db.models.expressions import RawSQL
from django.http import StreamingHttpResponse

CHUNK = 1000
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NONE = type(None)
DATE = datetime.date


class Column:
    """One column of an export. An export of model objects reads it with `value(obj)`; an export of
    plain values (see `response`) reads the values named `field` (the column's name if not given)."""

    def __init__(self, name, description, value=None, field=None):
        self.name = name
        self.description = description
        self.value = value
        self.field = field or name


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


# CSV --------------------------------------------------------------------------------------------------

_CSV_FLAGS = {True: "yes", False: "no", None: ""}
_FIRST = operator.itemgetter(slice(0, 1))


class _Echo:
    def write(self, value):
        return value


def _quoted(text):
    # As csv.writer quotes (the "excel" dialect, minimal quoting): a field with a comma, a quote or a
    # line break goes in quotes, and its quotes are doubled.
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def _csv_texts(texts):
    # Whether any value needs a change is asked once of the whole column: of its first characters
    # joined, then of all its text joined.
    firsts = "".join(map(_FIRST, texts))
    if any(start in firsts for start in FORMULA_START):
        texts = [neutralise(text) for text in texts]
    joined = "".join(texts)
    if '"' in joined or "," in joined or "\n" in joined or "\r" in joined:
        return [_quoted(text) for text in texts]
    return texts


def _csv_cell(value):
    value = neutralise(_plain(value))
    if not isinstance(value, str):
        # What csv.writer writes for a value that is not a string.
        value = repr(value) if isinstance(value, float) else str(value)
    return _quoted(value)


def _csv_column(values):
    """The cells of one column, as neutralise(_plain(value)) and then csv.writer make them."""
    kinds = set(map(type, values))
    if kinds <= {int}:
        return list(map(str, values))
    if kinds <= {int, NONE}:
        return ["" if value is None else str(value) for value in values]
    if kinds <= {bool, NONE}:
        return list(map(_CSV_FLAGS.__getitem__, values))
    if kinds <= {DATE, NONE}:
        return ["" if value is None else value.isoformat() for value in values]
    if kinds <= {str}:
        return _csv_texts(values)
    if kinds <= {str, NONE}:
        return _csv_texts(["" if value is None else value for value in values])
    if kinds <= {list}:
        if set(map(type, chain.from_iterable(values))) <= {str}:
            return _csv_texts(list(map("; ".join, values)))
        return _csv_texts(["; ".join(map(str, value)) for value in values])
    return list(map(_csv_cell, values))


def _csv_chunks(chunks, columns):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([column.name for column in columns])
    for chunk in chunks:
        if len(columns) == 1:
            # csv.writer quotes a row's only field when it is empty.
            yield "".join(writer.writerow([neutralise(_plain(value))]) for value in chunk[0])
            continue
        cells = map(_csv_column, chunk)
        yield "\r\n".join(map(",".join, zip(*cells, strict=True))) + "\r\n"


# JSON -------------------------------------------------------------------------------------------------

_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
_json_string = json.encoder.encode_basestring  # the encoder's own, for ensure_ascii=False
_JSON_CONSTANTS = {True: "true", False: "false", None: "null"}


def _json_column(values):
    """The values of one column, each as json.dumps(value, ensure_ascii=False, default=str) writes it."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return list(map(_json_string, values))
    if kinds <= {int}:
        return list(map(int.__repr__, values))
    if kinds <= {int, NONE}:
        return ["null" if value is None else int.__repr__(value) for value in values]
    if kinds <= {bool, NONE}:
        return list(map(_JSON_CONSTANTS.__getitem__, values))
    if kinds <= {str, NONE}:
        return ["null" if value is None else _json_string(value) for value in values]
    if kinds <= {DATE, NONE}:
        return ["null" if value is None else '"' + value.isoformat() + '"' for value in values]
    if kinds <= {list}:
        items = set(map(type, chain.from_iterable(values)))
        if items <= {str}:
            return ["[" + ", ".join(map(_json_string, value)) + "]" for value in values]
        if items <= {int}:
            return ["[" + ", ".join(map(int.__repr__, value)) + "]" for value in values]
    return list(map(_JSON.encode, values))


def _json_chunks(chunks, columns):
    # A record is its keys and values side by side, joined: {"id": 1, "url": "/excerpts/1/", …}.
    keys = [("" if n == 0 else ", ") + _json_string(column.name) + ": " for n, column in enumerate(columns)]
    yield "[\n"
    first = True
    for chunk in chunks:
        pieces = []
        for key, values in zip(keys, chunk, strict=True):
            pieces += (repeat(key, len(values)), _json_column(values))
        records = "{" + "},\n{".join(map("".join, zip(*pieces, strict=True))) + "}"
        yield records if first else ",\n" + records
        first = False
    yield "\n]\n"


# Reading ----------------------------------------------------------------------------------------------


def _value_chunks(queryset, columns, fields, fill):
    """Chunks of columns read as plain values; `fill(values)` adds to a chunk's values (a dict of
    field: values) what it needs from other tables, a query per chunk at most."""
    rows = queryset.values_list(*fields).iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        values = dict(zip(fields, zip(*chunk, strict=True), strict=True))
        fill(values)
        yield [values[column.field] for column in columns]


def _object_chunks(queryset, columns):
    objects = queryset.iterator(chunk_size=CHUNK)
    while chunk := list(islice(objects, CHUNK)):
        yield [list(map(column.value, chunk)) for column in columns]


def response(queryset, columns, fmt, filename, values=None):
    # Connect (or check the connection) here, in the view: a database that does not answer gets its error
    # page rather than a download cut short after its headers.
    with connections[queryset.db].cursor():
        pass
    if values:
        fields, fill = values
        chunks = _value_chunks(queryset, columns, fields, fill)
    else:
        chunks = _object_chunks(queryset, columns)
    if fmt == "csv":
        content, content_type = _csv_chunks(chunks, columns), "text/csv; charset=utf-8"
    else:
        content, content_type = _json_chunks(chunks, columns), "application/json; charset=utf-8"
    result = StreamingHttpResponse(content, content_type=content_type)
    result["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return result
