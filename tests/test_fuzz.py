"""Random and hostile query strings against every public URL: no answer is ever a 500.

Hypothesis builds the query strings from the parameters each page knows and from hostile values: SQL
fragments, full-text operators, NUL and control characters, overlong values, broken percent-encodings
and repeated parameters. The query string reaches Django exactly as written, as from a real client.
"""

import os
from urllib.parse import quote

import pytest
from django.urls import resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import make_document, make_excerpt, make_organisation

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    # Same examples on every CI run; new ones on every developer's run.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE observers_excerpt; --",
    "1 UNION SELECT username, password FROM auth_user --",
    "%' AND 1=0 --",
    '") OR ("a"="a',
    "\\",
    "NEAR(voting counting)",
    "voting AND NOT counting OR *",
    "text:voting",
    "^vot*",
    '"unbalanced',
    "{text translation}: x",
    "a & b | !c <-> d:*",
    "()",
    "\x00",
    "a\x00b",
    "\x01\x02\x1b\x7f",
    "\r\nSet-Cookie: x=1",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "9" * 400,
    "-1",
    "0",
    "1e309",
    "NaN",
    "-9223372036854775809",
    "99999999999999999999999",
    "2016-02-30",
    "\ud7ff\ue000\U0010ffff",
    "x" * 5000,
    "é" * 300,
    "",
]
RAW = ["%", "%%", "%g1", "%E2%28%A1", "%C0%AF", "%00", "%ZZ", "%u0041", "&&&", "===", "+", ";", "#", "?"]


def values():
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
        st.integers().map(str),
        st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.text(max_size=10)),
    )


def wsgi(text):
    """A str as WSGI carries the query string: UTF-8 bytes read as Latin-1."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


@st.composite
def query_strings(draw, names):
    pairs = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        name = draw(st.one_of(st.sampled_from(names), st.text(max_size=12)))
        value = draw(values())
        style = draw(st.sampled_from(["encoded", "raw", "broken", "no value"]))
        if style == "encoded":
            pairs.append(f"{quote(name, safe='')}={quote(value, safe='')}")
        elif style == "raw":
            pairs.append(wsgi(f"{name}={value}"))
        elif style == "broken":
            pairs.append(f"{quote(name, safe='')}={quote(value[:20], safe='')}{draw(st.sampled_from(RAW))}")
        else:
            pairs.append(quote(name, safe=""))
    if draw(st.booleans()):
        pairs += pairs[: draw(st.integers(min_value=1, max_value=3))]  # repeated parameters
    return "&".join(pairs)


def body(response):
    # A streamed export fails, if it does, while it is read.
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def check(client, path, query):
    response = client.get(path, QUERY_STRING=query)
    body(response)
    assert response.status_code < 500, (path, query)


def parameters(path):
    """The GET parameters the page at `path` understands."""
    view = resolve(path).func
    filterset = getattr(getattr(view, "view_class", None), "filterset_class", None) or getattr(
        view, "filterset_class", None
    )
    names = ["page", "sort", "q", "format"]
    if filterset is not None:
        names += list(filterset.base_filters)
    return names


@pytest.fixture
def record(db):
    """One published excerpt and one characterisation of it, so that every page has something to show."""
    excerpt = make_excerpt(status="published", translation="A translation", translation_status="editor")
    for parent in (excerpt.mission, excerpt.document):
        parent.status = "published"
        parent.save()
    excerpt.save()
    claim = make_excerpt(
        mission=excerpt.mission,
        document=make_document(kind="op_ed", publisher=make_organisation(), status="published"),
        status="published",
        fidelity="selective",
    )
    claim.primary_excerpts.add(excerpt)
    return excerpt, claim


LISTS = ["election", "organisation", "mission", "document", "excerpt", "characterisation"]


def test_lists(client, record):
    paths = [reverse(f"observers:{name}_list") for name in LISTS]

    @settings(FUZZ, max_examples=90)
    @given(data=st.data())
    def run(data):
        path = data.draw(st.sampled_from(paths), label="path")
        check(client, path, data.draw(query_strings(parameters(path)), label="query"))

    run()


def test_exports(client, record):
    paths = [reverse(f"observers:{name}_export", kwargs={"format": fmt}) for name in LISTS for fmt in ("csv", "json")]

    @FUZZ
    @given(path=st.sampled_from(paths), query=query_strings(parameters(reverse("observers:excerpt_list"))))
    def run(path, query):
        check(client, path, query)

    run()


def test_search(client, record):
    path = reverse("observers:excerpt_list")

    @settings(FUZZ, max_examples=30)
    @given(q=values(), sort=st.sampled_from(["relevance", "date", "-date", "bogus", ""]), raw=st.booleans())
    def run(q, sort, raw):
        query = wsgi(f"q={q}&sort={sort}") if raw else f"q={quote(q, safe='')}&sort={sort}"
        check(client, path, query)

    run()


def test_feed(client, record):
    path = reverse("observers:excerpt_feed")

    @FUZZ
    @given(query=query_strings(parameters(reverse("observers:excerpt_list"))))
    def run(query):
        check(client, path, query)

    run()


def test_detail_pages(client, record):
    excerpt, claim = record
    paths = [
        reverse("observers:home"),
        reverse("observers:methodology"),
        reverse("sitemap", kwargs={"section": "excerpts"}),
        reverse("robots"),
        excerpt.get_absolute_url(),
        claim.get_absolute_url(),
        excerpt.mission.get_absolute_url(),
        excerpt.document.get_absolute_url(),
        excerpt.mission.election.get_absolute_url(),
        excerpt.mission.organisation.get_absolute_url(),
        reverse("observers:excerpt_citation", kwargs={"pk": excerpt.pk, "format": "bib"}),
        reverse("observers:excerpt_citation", kwargs={"pk": claim.pk, "format": "ris"}),
        "/healthz",
    ]

    @FUZZ
    @given(path=st.sampled_from(paths), query=query_strings(["page", "preview", "format", "q", "p"]))
    def run(path, query):
        check(client, path, query)

    run()


def test_hostile_paths(client, record):
    """Ids and slugs in the path itself: out of range, negative, hostile."""
    prefixes = ["/excerpts/", "/missions/", "/documents/", "/elections/", "/organisations/", "/excerpts/1/cite."]

    @FUZZ
    @given(
        prefix=st.sampled_from(prefixes),
        part=st.one_of(
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.sampled_from(HOSTILE).map(lambda v: quote(v, safe="")),
            st.text(max_size=30).map(lambda v: quote(v, safe="")),
        ),
    )
    def run(prefix, part):
        response = client.get(f"{prefix}{part}/" if not prefix.endswith(".") else f"{prefix}{part}")
        body(response)
        assert response.status_code < 500, (prefix, part)

    run()
