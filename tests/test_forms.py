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


def _counted(written):
    from electionsite import forms

    original = forms.render_select

    def render_select(widget):
        written.append(widget["name"])
        return original(widget)

    return render_select


def test_drop_down_lists_are_written_as_django_s_templates_write_them(superuser_client, record, monkeypatch):
    urls = page_urls(record) + admin_urls(record)
    assert isinstance(get_default_renderer(), FormRenderer)
    written = []
    monkeypatch.setattr("electionsite.forms.render_select", _counted(written))
    ours = selects(superuser_client, urls)
    assert len(written) == sum(map(len, ours.values()))  # every select on those pages was written by it
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


class Marked:
    """A value that knows its own HTML (but is not marked safe)."""

    def __html__(self):
        return "<u>marked</u>"

    def __str__(self):
        return "<marked>"


def test_awkward_choices_are_written_as_django_s_templates_write_them():
    import datetime
    from decimal import Decimal

    from django import forms
    from django.forms.renderers import DjangoTemplates
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    choices = [
        ("", "---------"),
        ('a"b<c>&', "<b>quoted & bold</b>"),
        (1, 2),
        (None, None),
        (Decimal("1.50"), Decimal("2.25")),
        (datetime.date(2026, 12, 2), datetime.date(2026, 12, 2)),
        ("lazy", gettext_lazy("Lazy label")),
        ("safe", mark_safe("<i>kept</i>")),
        (Marked(), Marked()),
        ("Group & co", [("x", "in a <group>"), ("y", "another")]),
    ]
    attrs = {"id": "id_<x>", "required": True, "disabled": False, "data-n": 3, "data-m": Marked()}
    for widget in (forms.Select(attrs=attrs, choices=choices), forms.SelectMultiple(attrs=attrs, choices=choices)):
        for value in (None, 'a"b<c>&', ["x", "1"], "safe"):
            ours = widget.render('na"me', value, renderer=FormRenderer())
            stock = widget.render('na"me', value, renderer=DjangoTemplates())
            assert ours == stock, (widget, value)
    assert "&lt;b&gt;quoted &amp; bold&lt;/b&gt;" in ours and "<i>kept</i>" in ours


def test_a_select_whose_template_a_project_overrides_is_left_to_django(monkeypatch):
    from django import forms

    renderer = FormRenderer()
    monkeypatch.setattr(renderer, "_stock", False, raising=False)  # as if a template were overridden
    called = []
    monkeypatch.setattr("electionsite.forms.render_select", lambda widget: called.append(widget))
    html = forms.Select(choices=[("a", "A")]).render("n", "a", renderer=renderer)
    assert called == [] and '<option value="a" selected>A</option>' in html
