"""Streamed CSV and JSON downloads of a whole filtered list."""

import csv
import json

from django.db import connections
from django.http import StreamingHttpResponse

CHUNK = 1000
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Column:
    def __init__(self, name, description, value):
        self.name = name
        self.description = description
        self.value = value


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def _csv_rows(rows, columns):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([column.name for column in columns])
    for row in rows:
        yield writer.writerow([neutralise(_plain(column.value(row))) for column in columns])


def _json_rows(rows, columns):
    yield "[\n"
    first = True
    for row in rows:
        record = {column.name: column.value(row) for column in columns}
        yield ("" if first else ",\n") + json.dumps(record, ensure_ascii=False, default=str)
        first = False
    yield "\n]\n"


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _value_rows(queryset, fill):
    """Rows as dicts, read in chunks; `fill(chunk)` adds what each chunk needs from other tables."""
    chunk = []
    for row in queryset.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            fill(chunk)
            yield from chunk
            chunk = []
    if chunk:
        fill(chunk)
        yield from chunk


def response(queryset, columns, fmt, filename, values=None):
    # Connect (or check the connection) here, in the view: a database that does not answer gets its error
    # page rather than a download cut short after its headers.
    with connections[queryset.db].cursor():
        pass
    if values:
        fields, fill = values
        rows = _value_rows(queryset.values(*fields), fill)
    else:
        rows = queryset.iterator(chunk_size=CHUNK)
    if fmt == "csv":
        content, content_type = _csv_rows(rows, columns), "text/csv; charset=utf-8"
    else:
        content, content_type = _json_rows(rows, columns), "application/json; charset=utf-8"
    result = StreamingHttpResponse(content, content_type=content_type)
    result["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return result
