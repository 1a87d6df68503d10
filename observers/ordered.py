"""A list filtered by one of several values, read in its order from an index instead of sorted.

An organisation's filter takes in its member bodies: `organisation_id IN (1, 6)`. An index on
(organisation, sort key) hands out each organisation's excerpts in order, but not the two together,
so SQLite read every excerpt of the family and sorted them to show the first 25: at a million
excerpts, the heaviest organisation's 150,000 (a list's rows 184 ms, its facets' first rows 100 ms,
on a slow day). Asked as one query per value, each read in order from the index, SQLite merges the
arms as they come (a compound SELECT's "MERGE (UNION ALL)") and stops at the page.

PostgreSQL's planner reads such a list in order from the index of the whole list and skips the rows
of other organisations (a filter on the heaviest family passes over few), and plans the compound
query far worse: it is left as it is there.
"""

import functools

from django.db import connections
from django.db.models.expressions import Col
from django.db.models.lookups import In
from django.db.models.sql.where import WhereNode

# More values than this are read as they are: an arm per value costs its own index search.
MOST_ARMS = 20


def in_key_order(queryset):
    """`queryset` (sliced or not), or on SQLite, when it is filtered by a column IN a few values and an
    index of the model orders each value's rows as the queryset is ordered, the same rows in the same
    order as a merge of one query per value. The result is for reading only: a compound query takes
    no further filter. A queryset of values must select the columns it is ordered by (key_columns)."""
    planned = _plan(queryset)
    if planned is None:
        return queryset
    ordering, attname, values = planned
    query = queryset.query
    if not all(_selected(query, term.lstrip("-")) for term in ordering):
        return queryset  # a compound query is ordered by the columns it selects
    whole = queryset._chain()
    whole.query.clear_limits()
    arms = [whole.filter(**{attname: value}).order_by() for value in values]
    merged = arms[0].union(*arms[1:], all=True).order_by(*ordering)
    if query.low_mark or query.high_mark is not None:
        return merged[query.low_mark : query.high_mark]
    return merged


def key_columns(queryset, selected):
    """The columns that values of `queryset` selecting `selected` must add for in_key_order to merge
    them (the ordering's), or none when it would not."""
    planned = _plan(queryset)
    if planned is None:
        return []
    return [name for name in (term.lstrip("-") for term in planned[0]) if name not in selected]


def _plan(queryset):
    """(ordering, column, values) of a queryset that in_key_order would read as a merge, or None."""
    if connections[queryset.db].vendor != "sqlite" or queryset.query.combinator:
        return None
    query = queryset.query
    # Rows grouped, made distinct or ordered by hand-written SQL would be so per arm, not together.
    if query.group_by is not None or query.distinct or query.extra_order_by or query.is_empty():
        return None
    ordering = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
    if not ordering or not all(isinstance(term, str) for term in ordering):
        return None
    # "pk" named as an index names it, by the primary key's own name (unless the key is a link, by
    # whose name a query would be ordered by the linked model's ordering).
    pk = queryset.model._meta.pk
    if not pk.is_relation:
        ordering = [term.replace("pk", pk.name) if term.lstrip("-") == "pk" else term for term in ordering]
    split = _split_column(queryset.model, query, tuple(term.lstrip("-") for term in ordering))
    return None if split is None else (ordering, *split)


def _selected(query, name):
    """Whether the query's rows hold the field `name`: among its values, or not deferred."""
    if query.values_select:
        return name in query.values_select
    deferred, defer = query.deferred_loading
    return name not in deferred if defer else not deferred or name in deferred


@functools.cache
def _leading_columns(model, ordered_by):
    """The columns that lead an index of `model` going on with the columns `ordered_by` (a tuple):
    found once per process, not on every list's page and facets."""
    leading = set()
    for index in model._meta.indexes:
        fields = tuple(name.lstrip("-") for name in index.fields)
        if fields[1 : 1 + len(ordered_by)] == ordered_by:
            leading.add(model._meta.get_field(fields[0]).attname)
    return frozenset(leading)


def _split_column(model, query, ordered_by):
    """(column, values) of the first condition `column IN (values)` of the query's own rows whose
    column leads an index that goes on with the ordering's columns; or None."""
    leading = _leading_columns(model, ordered_by)
    for condition in _conditions(query.where):
        if not isinstance(condition, In) or not isinstance(condition.lhs, Col):
            continue
        target = condition.lhs.target
        values = condition.rhs
        if (
            condition.lhs.alias == query.base_table
            and target.model is model
            and target.attname in leading
            and isinstance(values, (list, tuple, set))
        ):
            # As Django writes the condition: each value once, and no NULL (which IN never matches).
            values = sorted({value for value in values if value is not None})
            if 1 < len(values) <= MOST_ARMS:
                return target.attname, values
    return None


def _conditions(node):
    """The conditions that every row of a WHERE node meets: its own, and those of its nested AND
    nodes (not those of an OR, nor of a NOT)."""
    if getattr(node, "connector", None) != "AND" or node.negated:
        return
    for child in node.children:
        if isinstance(child, WhereNode):
            yield from _conditions(child)
        else:
            yield child
