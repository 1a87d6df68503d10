"""The form renderer's drop-down lists and inputs (electionsite/forms.py), written as Django's templates write them."""

import re

import pytest
from django.core.cache import cache
from django.forms.renderers import get_default_renderer
from django.test import override_settings
from django.urls import reverse

from electionsite.forms import FormRenderer, Select

from .test_views import Record

pytestmark = pytest.mark.django_db
SELECT = re.compile(r"<select\b.*?</select>", re.DOTALL)
INPUT = re.compile(r"<input\b[^>]*>")
LABEL = re.compile(r"<(?:label|legend)\b.*?</(?:label|legend)>", re.DOTALL)


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
        reverse("admin:observers_document_changelist"),
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


def fragments(client, urls, pattern=SELECT):
    cache.clear()  # the filter forms' HTML is cached
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        # A form's token differs from one response to the next.
        found[url] = [f for f in pattern.findall(response.content.decode()) if "csrfmiddlewaretoken" not in f]
    return found


def selects(client, urls):
    return fragments(client, urls)


def stock_fragments(client, urls, pattern=SELECT):
    """fragments() as Django's own renderer, with its templates, writes them."""
    with override_settings(FORM_RENDERER="django.forms.renderers.DjangoTemplates"):
        get_default_renderer.cache_clear()
        try:
            return fragments(client, urls, pattern)
        finally:
            get_default_renderer.cache_clear()


def _counted(written, name="render_select", key="name"):
    """electionsite.forms' `name`, noting in `written` the `key` of each context it is given."""
    from electionsite import forms

    original = getattr(forms, name)

    def counted(context, *rest):
        written.append(context[key])
        return original(context, *rest)

    return counted


def test_drop_down_lists_are_written_as_django_s_templates_write_them(superuser_client, record, monkeypatch):
    urls = page_urls(record) + admin_urls(record)
    assert isinstance(get_default_renderer(), FormRenderer)
    written, from_choices = [], []
    monkeypatch.setattr("electionsite.forms.render_select", _counted(written))
    monkeypatch.setattr("electionsite.forms.render_select_choices", _counted(from_choices, "render_select_choices"))
    ours = selects(superuser_client, urls)
    # Every select on those pages was written by the renderer; the public filter forms' from their
    # choices, without Django listing their options first.
    assert len(written) + len(from_choices) == sum(map(len, ours.values()))
    assert len(from_choices) == sum(len(ours[url]) for url in page_urls(record)) > 10
    assert sum(map(len, ours.values())) > 20
    assert sum(fragment.count("<option") for fragments in ours.values() for fragment in fragments) > 500
    assert any(" selected>" in fragment for fragments in ours.values() for fragment in fragments)
    assert ours == stock_fragments(superuser_client, urls)


def test_inputs_are_written_as_django_s_templates_write_them(superuser_client, record, monkeypatch):
    urls = page_urls(record) + admin_urls(record)
    written = []
    monkeypatch.setattr("electionsite.forms.render_input", _counted(written, "render_input"))
    ours = fragments(superuser_client, urls, INPUT)
    found = [fragment for fragments in ours.values() for fragment in fragments]
    # Written by it: the public filter forms' inputs, the admin list's check boxes, its forms' texts,
    # numbers and hidden ids (the site's search box and the forms' tokens are written by their pages).
    assert len(written) > 40 and {"q", "year_from", "_selected_action", "title"} <= set(written)
    assert any(name.endswith("-TOTAL_FORMS") for name in written)
    assert {'type="checkbox"', 'type="hidden"', 'type="text"', 'type="number"'} <= {
        re.search(r'type="\w+"', fragment).group() for fragment in found
    }
    assert any(" checked" in fragment for fragment in found)
    assert ours == stock_fragments(superuser_client, urls, INPUT)


def test_labels_are_written_as_django_s_template_writes_them(superuser_client, record, monkeypatch):
    urls = page_urls(record) + admin_urls(record)
    written = []
    monkeypatch.setattr("electionsite.forms.render_label", _counted(written, "render_label", key="label"))
    ours = fragments(superuser_client, urls, LABEL)
    found = [fragment for fragments in ours.values() for fragment in fragments]
    # The public filter forms' labels and the admin forms' (with their classes and suffixes).
    assert len(written) > 100 and len(found) > 100
    assert any('class="required"' in fragment for fragment in found)
    assert any(":</label>" in fragment for fragment in found)
    assert ours == stock_fragments(superuser_client, urls, LABEL)


def test_awkward_labels_are_written_as_django_s_template_writes_them():
    from django import forms
    from django.forms.renderers import DjangoTemplates
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    class Form(forms.Form):
        text = forms.CharField(label='a"b<c>&')
        lazy = forms.CharField(label=gettext_lazy("Lazy <label>"), required=False)
        safe = forms.CharField(label=mark_safe("<i>kept</i>"))  # noqa: S308
        punctuated = forms.CharField(label="Why?")
        padded = forms.CharField(label=" Padded ")
        choice = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)

    for auto_id in ("id_%s", False):
        for suffix in (":", None, " &", ""):
            forms_ = [
                Form(auto_id=auto_id, label_suffix=suffix, renderer=r) for r in (FormRenderer(), DjangoTemplates())
            ]
            for name in Form.base_fields:
                ours, stock = (form[name] for form in forms_)
                for kwargs in (
                    {},
                    {"attrs": awkward_attributes()},
                    {"contents": mark_safe("<b>x</b>")},
                    {"tag": "span"},
                ):
                    assert ours.label_tag(**kwargs) == stock.label_tag(**kwargs), (name, auto_id, suffix, kwargs)
                assert ours.legend_tag() == stock.legend_tag()
    written = Form(renderer=FormRenderer())["text"].label_tag(attrs={"data-n": 3})
    assert written == '<label data-n="3" for="id_text">a&quot;b&lt;c&gt;&amp;:</label>'
    assert Form(auto_id=False, renderer=FormRenderer())["text"].label_tag() == "a&quot;b&lt;c&gt;&amp;:"


def test_a_label_whose_template_a_project_overrides_is_left_to_django(monkeypatch):
    from django import forms

    class Form(forms.Form):
        name = forms.CharField(label="Name")

    renderer = FormRenderer()
    monkeypatch.setattr(renderer, "_stock_label", False, raising=False)  # as if label.html were overridden
    called = []
    monkeypatch.setattr("electionsite.forms.render_label", lambda context: called.append(context))
    assert Form(renderer=renderer)["name"].label_tag() == '<label for="id_name">Name:</label>'
    assert called == []
    # The label's own attributes template (not the widgets') overridden: left to Django too.
    renderer = FormRenderer()
    monkeypatch.setattr(renderer, "_own", lambda name: name != "django/forms/attrs.html")
    assert not renderer._stock_label


def test_awkward_inputs_are_written_as_django_s_templates_write_them():
    import datetime
    from decimal import Decimal

    from django import forms
    from django.forms.renderers import DjangoTemplates
    from django.utils.safestring import mark_safe

    attrs = awkward_attributes()
    cases = [
        (forms.TextInput(attrs=attrs), ['a"b<c>&', "", None, mark_safe("<i>kept</i>"), Marked(), MadeSafe(), 3]),
        (forms.NumberInput(attrs=attrs), [Decimal("1.50"), 0, None]),
        (forms.DateInput(attrs=attrs), [datetime.date(2026, 12, 3), "not a date", None]),
        (forms.CheckboxInput(attrs=attrs), [True, False, None, "on", ""]),
        (forms.HiddenInput(attrs=attrs), ['"quoted"', None]),
        (forms.EmailInput(), ["a@b.c"]),
        (forms.URLInput(), ["https://example.org/?a=1&b=<2>"]),
        (forms.PasswordInput(render_value=True), ["secret"]),
    ]
    for widget, values in cases:
        for value in values:
            ours = widget.render('na"me', value, renderer=FormRenderer())
            stock = widget.render('na"me', value, renderer=DjangoTemplates())
            assert ours == stock, (widget, value)
    assert ours.startswith("<input ")


def test_an_input_whose_template_a_project_overrides_is_left_to_django(monkeypatch):
    from django import forms

    renderer = FormRenderer()
    monkeypatch.setattr(renderer, "_stock", False, raising=False)  # as if input.html were overridden
    called = []
    monkeypatch.setattr("electionsite.forms.render_input", lambda widget: called.append(widget))
    html = forms.TextInput().render("n", "v", renderer=renderer)
    assert called == [] and html == '<input type="text" name="n" value="v">'
    # A template that does more than include input.html is Django's to render.
    assert not FormRenderer()._writes_an_input("django/forms/widgets/textarea.html")
    assert FormRenderer()._writes_an_input("django/forms/widgets/checkbox.html")


class Marked:
    """A value that knows its own HTML (but is not marked safe)."""

    def __html__(self):
        return "<u>marked</u>"

    def __str__(self):
        return "<marked>"


class MadeSafe:
    """A value whose text is made safe (by format_html), though the value itself is not."""

    def __str__(self):
        from django.utils.html import format_html

        return format_html("<i>{}</i>", "<made>")


def awkward_attributes():
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    return {
        "id": "id_<x>",
        "required": True,
        "disabled": False,
        "data-n": 3,
        "data-m": Marked(),
        "data-s": MadeSafe(),
        "data-l": mark_safe(gettext_lazy("a<b")),  # noqa: S308
        "data-t": ("a", "<b>"),
    }


def test_awkward_choices_are_written_as_django_s_templates_write_them(monkeypatch):
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
        (MadeSafe(), MadeSafe()),
        ("Group & co", [("x", "in a <group>"), ("y", "another")]),
    ]

    class ListedMultiple(Select):
        allow_multiple_selected = True

    class OwnOptions(Select):
        def create_option(self, *args, **kwargs):
            option = super().create_option(*args, **kwargs)
            option["attrs"]["data-own"] = "<1>"
            return option

    attrs = awkward_attributes()
    widgets = [
        forms.Select(attrs=attrs, choices=choices),
        forms.SelectMultiple(attrs=attrs, choices=choices),
        Select(attrs=attrs, choices=choices),
        ListedMultiple(attrs=attrs, choices=choices),
        OwnOptions(attrs=attrs, choices=choices),
    ]
    from_choices = []
    monkeypatch.setattr("electionsite.forms.render_select_choices", _counted(from_choices, "render_select_choices"))
    for widget in widgets:
        for value in (None, 'a"b<c>&', ["x", "1"], "safe", ["", "1"]):
            ours = widget.render('na"me', value, renderer=FormRenderer())
            stock = widget.render('na"me', value, renderer=DjangoTemplates())
            assert ours == stock, (widget, value)
    assert "&lt;b&gt;quoted &amp; bold&lt;/b&gt;" in ours and "<i>kept</i>" in ours
    assert 'data-own="&lt;1&gt;"' in ours  # options of its own: listed by it, as Django lists them
    # The project's Select (single or multiple) was written from its choices, the other not.
    assert len(from_choices) == 2 * 5


def test_a_select_whose_template_a_project_overrides_is_left_to_django(monkeypatch):
    from django import forms

    renderer = FormRenderer()
    monkeypatch.setattr(renderer, "_stock", False, raising=False)  # as if a template were overridden
    called = []
    monkeypatch.setattr("electionsite.forms.render_select", lambda widget: called.append(widget))
    html = forms.Select(choices=[("a", "A")]).render("n", "a", renderer=renderer)
    assert called == [] and '<option value="a" selected>A</option>' in html
    # The project's Select, its options listed when Django's template reads them.
    monkeypatch.setattr("electionsite.forms.render_select_choices", lambda *args: called.append(args))
    html = Select(choices=[("a", "A"), ("g", [("b", "B")])]).render("n", "b", renderer=renderer)
    assert called == [] and '<optgroup label="g">\n  <option value="b" selected>B</option>' in html
