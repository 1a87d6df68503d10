"""The form renderer's drop-down lists (electionsite/forms.py), written as Django's templates write them."""

import re

import pytest
from django.core.cache import cache
from django.forms.renderers import get_default_renderer
from django.test import override_settings
from django.urls import reverse

from electionsite.forms import FormRenderer

from .test_views import Record

pytestmark = pytest.mark.django_db
SELECT = re.compile(r"<select\b.*?</select>", re.DOTALL)


def page_urls(record):
    return [
        reverse("observers:excerpt_list"),
        reverse("observers:excerpt_list") + "?organisation=osce&stance=critical&country=KZ&topic=voting",
        reverse("observers:characterisation_list") + "?fidelity=accurate",
        reverse("observers:election_list") + "?country=KZ",
        reverse("observers:organisation_list"),
        reverse("observers:mission_list"),
        reverse("observers:document_list") + "?kind=final",
    ]


def admin_urls(record):
    return [
        reverse("admin:observers_excerpt_changelist"),
        reverse("admin:observers_excerpt_add"),
        reverse("admin:observers_excerpt_change", args=[record.claim.pk]),
        reverse("admin:observers_mission_change", args=[record.odihr_mission.pk]),
        reverse("admin:observers_document_change", args=[record.final_report.pk]),
        reverse("admin:observers_election_change", args=[record.election.pk]),
        reverse("admin:observers_organisation_change", args=[record.odihr.pk]),
    ]


@pytest.fixture
def record(db):
    return Record()


def selects(client, urls):
    cache.clear()  # the filter forms' HTML is cached
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = SELECT.findall(response.content.decode())
    return found


def test_drop_down_lists_are_written_as_django_s_templates_write_them(superuser_client, record):
    urls = page_urls(record) + admin_urls(record)
    assert isinstance(get_default_renderer(), FormRenderer)
    ours = selects(superuser_client, urls)
    assert sum(map(len, ours.values())) > 20
    assert sum(fragment.count("<option") for fragments in ours.values() for fragment in fragments) > 500
    assert any(" selected>" in fragment for fragments in ours.values() for fragment in fragments)
    with override_settings(FORM_RENDERER="django.forms.renderers.DjangoTemplates"):
        get_default_renderer.cache_clear()
        try:
            stock = selects(superuser_client, urls)
        finally:
            get_default_renderer.cache_clear()
    assert ours == stock


def test_names_and_values_are_escaped_and_safe_labels_kept():
    from django.utils.safestring import mark_safe

    from electionsite.forms import render_select

    widget = {
        "name": 'a"b',
        "attrs": {"id": "id_<x>", "required": True, "disabled": False, "data-n": 3},
        "optgroups": [
            ("Group & co", [{"value": '1"', "label": "<b>", "attrs": {"selected": True},
                            "template_name": "django/forms/widgets/select_option.html"}], 0),
            (None, [{"value": 2, "label": mark_safe("<i>kept</i>"), "attrs": {},
                     "template_name": "django/forms/widgets/select_option.html"}], 1),
        ],
    }  # fmt: skip
    html = render_select(widget)
    assert html.startswith('<select name="a&quot;b" id="id_&lt;x&gt;" required data-n="3">')
    assert '<optgroup label="Group &amp; co">' in html
    assert '<option value="1&quot;" selected>&lt;b&gt;</option>' in html
    assert '<option value="2"><i>kept</i></option>' in html
    assert "disabled" not in html
