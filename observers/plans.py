"""Read the database's plan for a page's queries, and name what would not scale.

A query behind a public page must not read a large table row by row without an index, nor sort or
group rows in a temporary structure: at a million excerpts either costs seconds. Reading an index in
its order (the first page, a page after a key) or a covering index whole (a facet's counts, which are
cached) is allowed.
"""

import json
import re

from django.db import DatabaseError, connection

from .filters import COUNT_LIMIT, SELECT_LIMIT

# Tables that grow large with the record: at a million excerpts, 60,000 documents and 20,000
# missions. The others stay small (5,000 elections, a few hundred organisations, topics, accounts).
LARGE_TABLES = (
    "observers_excerpt",
    "observers_excerpt_topics",
    "observers_excerpt_primary_excerpts",
    "observers_document",
    "observers_mission",
    "observers_excerpt_fts",
)


def plan(sql, params=()):
    """The plan's lines, as the database gives them (on SQLite, a table under an alias named as
    "SCAN table AS alias")."""
    if connection.vendor == "sqlite":
        return [line for _, line in _sqlite_plan(sql, params)]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return _pg_lines(cursor.fetchone()[0])


def _sqlite_plan(sql, params=()):
    """SQLite's plan of `sql` as (the step it is part of, line): a subquery's, a common table
    expression's or the query's own."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        rows = cursor.fetchall()
    return list(zip([row[1] for row in rows], _named_tables([row[3] for row in rows], sql), strict=True))


# A table under an alias in Django's SQL: a subquery's ("observers_excerpt" U0), a join's repeated
# table ("observers_organisation" T4).
_ALIASED = re.compile(r'"(\w+)" (?:AS )?"?([A-Z]+\d+)"?(?=[\s),]|$)')
# A plan's line that names a table read: SQLite names an aliased table by its alias alone ("SCAN U0").
_READ_SQLITE = re.compile(r"^(SCAN|SEARCH) (\w+)(?= |$)(?! AS )")


def _named_tables(lines, sql):
    """SQLite's plan `lines` of `sql`, each table read under an alias named as "SCAN table AS alias",
    so that a subquery's reading of a large table is judged as any other."""
    # Sibling subqueries may each have a U0 of their own: a large table's name wins.
    aliases = {}
    for table, alias in _ALIASED.findall(sql):
        if alias not in aliases or table in LARGE_TABLES:
            aliases[alias] = table

    def named(match):
        alias = match.group(2)
        return f"{match.group(1)} {aliases[alias]} AS {alias}" if alias in aliases else match.group(0)

    return [_READ_SQLITE.sub(named, line) for line in lines]


def _pg_lines(document):
    if isinstance(document, str):
        document = json.loads(document)
    lines = []

    def walk(node):
        name = node.get("Node Type", "")
        relation = node.get("Relation Name", "")
        rows = node.get("Plan Rows", 0)
        lines.append(f"{name} {relation} rows={rows}".strip())
        for child in node.get("Plans", []):
            walk(child)

    walk(document[0]["Plan"])
    return lines


def is_facet(sql):
    """Counts per value (a facet's, the home page's): read whole by nature, and cached under the
    record's version."""
    return " GROUP BY " in sql and ' AS "n"' in sql


def is_bounded(sql):
    """A bounded count: it stops after COUNT_LIMIT + 1 rows, whatever it reads them from."""
    return sql.startswith("SELECT COUNT(*) FROM (") and f"LIMIT {COUNT_LIMIT + 1})" in sql


def is_distinct_values(sql):
    """A column's different values, at most SELECT_LIMIT + 1, asked in their order in a subquery (the
    elections a drop-down list would offer: filters.characterised_elections): bounded if read in that
    order from an index, stopping at the last, not if read whole and sorted."""
    return re.search(rf" IN \(SELECT DISTINCT .*? ORDER BY 1 ASC LIMIT {SELECT_LIMIT + 1}\)", sql) is not None


def problems(sql, params=()):
    """What in the plan of `sql` would not scale (an empty list when nothing)."""
    if is_bounded(sql):
        return []
    if connection.vendor == "sqlite":
        steps = _sqlite_plan(sql, params)
        if is_distinct_values(sql):
            # The subquery's own steps must not sort; the query's (step 0: it sorts the few rows
            # found) must not read a large table whole.
            return [f"sorts the values it reads: {line}" for step, line in steps if step and "TEMP B-TREE" in line] + [
                f"reads a large table whole: {line}" for step, line in steps if not step and _scans_large_table(line)
            ]
        lines = [line for _, line in steps]
        found = _sqlite_problems(
            steps,
            grouped=" GROUP BY " in sql,
            limited=" LIMIT " in sql,
            bounded_subquery=re.search(r" LIMIT \d+\)", sql) is not None,
        )
        if not found and " GROUP BY " not in sql and "USE TEMP B-TREE FOR ORDER BY" in lines:
            sorted_rows = _sorted_rows(sql, params)
            if sorted_rows is not None and sorted_rows > SORT_LIMIT:
                found.append(f"sorts more than {SORT_LIMIT:,} rows it searched for")
        return found
    return _pg_problems(plan(sql, params))


# A sort of the rows that an index search found is as large as what it found, which the plan does not
# say (and which the statistics' averages hide: the heaviest organisation and its member body have
# 150,000 of a million excerpts, the average organisation 3,000). More than this, counted, is a
# problem: an organisation's filter once sorted its family's every excerpt to show 25.
SORT_LIMIT = COUNT_LIMIT
# The query's own ORDER BY and LIMIT, at its end (not a subquery's).
_ORDER_AND_LIMIT = re.compile(r" ORDER BY [^()]*? LIMIT \d+(?: OFFSET \d+)?$")


def _sorted_rows(sql, params):
    """How many rows the query `sql` sorts, up to SORT_LIMIT + 1 (or None, if its ORDER BY is not at
    its end): its rows counted without their order and limit."""
    match = _ORDER_AND_LIMIT.search(sql)
    if match is None or "%s" in match.group():
        return None  # (an order with values of its own would leave its parameters unplaced)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql[: match.start()]} LIMIT {SORT_LIMIT + 1})", params)  # noqa: S608  # nosec B608
        return cursor.fetchone()[0]


def _scans_large_table(line):
    """Whether SQLite's plan `line` reads a large table from one end (see WHOLE_SQLITE)."""
    return (match := WHOLE_SQLITE.match(line)) is not None and match.group(1) in LARGE_TABLES


def _sqlite_problems(steps, grouped, limited, bounded_subquery):
    """`steps`: the plan as _sqlite_plan() gives it."""
    found = []
    lines = [line for _, line in steps]
    # A large table read whole: without an index, or along one (or all of a search's matches).
    scanned = [(step, line) for step, line in steps if _scans_large_table(line)]
    # Reading an index in its order stops at the LIMIT: what it hands on is bounded. Unless its own
    # step sorts what it read, or keeps it aside for DISTINCT: then its order is taken to be not the
    # one asked for, and it read to its end. (Only each run of equal values sorted, "RIGHT PART OF
    # ORDER BY" or in newer versions "LAST TERM OF ORDER BY", still stops.)
    sorting = {step for step, line in steps if "TEMP B-TREE" in line and not re.search(r"RIGHT PART|LAST", line)}
    whole = [
        line for step, line in scanned if not (line.endswith(tuple(ORDERED_READS)) and limited and step not in sorting)
    ]
    scans = [line for _, line in scanned]
    for line in whole:
        if not (grouped and "COVERING INDEX" in line):
            found.append(f"reads a large table whole: {line}")
    # A sort after an ordered read is bounded only when the read has a LIMIT of its own, in a
    # subquery (relevance ranks the first matches); sorting the read itself means it never stopped.
    # So is a search by an index whose terms most of the table's rows match (a status that nearly
    # every row has): it reads the table nearly whole, in the index's order rather than the one
    # asked for.
    sorted_input = whole if bounded_subquery else scans + [line for line in lines if _wide_search(line)]
    for line in lines:
        # Sorting a grouped query's few groups (a facet's values by count) is cheap; sorting or
        # grouping rows read whole is not.
        if sorted_input and "TEMP B-TREE" in line and not (grouped and line.endswith("FOR ORDER BY")):
            found.append(f"sorts what it read whole: {line}")
    return found


# "SEARCH t USING INDEX i (a=? AND b=?)", "SEARCH t USING COVERING INDEX i (a=? AND b>?)"
SEARCH_SQLITE = re.compile(r"SEARCH (\w+)(?: AS \w+)? USING (?:COVERING )?INDEX (\w+) \((.*)\)$")
# A search that, by the planner's statistics, matches at least this share of its table's rows.
WIDE_SHARE = 0.25


def _wide_search(line):
    """Whether the plan's `line` searches a large table by an index whose equal terms match, on
    average (sqlite_stat1), at least WIDE_SHARE of its rows."""
    match = SEARCH_SQLITE.match(line)
    if not match or match.group(1) not in LARGE_TABLES:
        return False
    table, index, terms = match.groups()
    equal = 0
    for term in terms.split(" AND "):
        if not term.endswith("=?") or term.endswith(("<=?", ">=?")):
            break
        equal += 1
    if not equal:
        return False
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s AND idx = %s", [table, index])
        except DatabaseError:  # no statistics gathered yet: no sqlite_stat1 table
            return False
        row = cursor.fetchone()
    numbers = row[0].split() if row else []
    if len(numbers) <= equal or not all(number.isdigit() for number in numbers[: equal + 1]):
        return False
    rows, matched = int(numbers[0]), int(numbers[equal])
    return rows > 0 and matched >= WIDE_SHARE * rows


def _pg_problems(lines):
    # PostgreSQL's planner picks by size: a sequential scan of a table of a few thousand rows is its
    # right choice, and says nothing of a large one. So a table counts by its size in the statistics.
    found = []
    for line in lines:
        name, rows = line.split(" rows=")[0], int(line.rsplit("rows=", 1)[1])
        if name.startswith("Seq Scan") and _pg_size(name.split()[-1]) > PG_LARGE:
            found.append(f"reads a large table whole: {line}")
        elif name.startswith(("Sort", "HashAggregate", "Hash ")) and rows > PG_LARGE:
            found.append(f"sorts or hashes many rows: {line}")
    return found


PG_LARGE = 10_000


def _pg_size(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        row = cursor.fetchone()
    return row[0] if row else 0


# "SCAN t", "SCAN t USING INDEX i", "SCAN t USING COVERING INDEX i", "SCAN t VIRTUAL TABLE INDEX n:…"
WHOLE_SQLITE = re.compile(r"SCAN (\w+)(?: AS \w+)?(?: USING (?:COVERING )?INDEX \w+| VIRTUAL TABLE INDEX \S+)?$")
# Reading an index in its order stops at the page's LIMIT; a covering index read whole answers a
# facet's counts (cached); a search that reads the full-text index in row-key order (INDEX 192…,
# FTS5's "ordered by rowid, descending") stops at the page too. For the unfiltered excerpt list,
# SQLite's planner may prefer the sort key's unique index to excerpt_public_by_key: it too is read
# in order and stops at the LIMIT.
ORDERED_READS = [
    f"INDEX {name}"
    for name in (
        "excerpt_public_by_key",
        "sqlite_autoindex_observers_excerpt_1",
        "excerpt_public_by_published",
        "excerpt_public_char_key",
        "excerpt_public_headline_key",
        "document_published_by_date",
        "document_by_date_title",  # the admin's document list
    )
] + [
    "VIRTUAL TABLE INDEX 192:M2",
    "VIRTUAL TABLE INDEX 64:M2",
]
