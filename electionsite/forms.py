"""The form renderer: Django's own, with its drop-down lists, inputs and labels written in Python.

Django writes a <select> from a template, and each of its options from another template included
once per option: the filter form of the excerpt list, with about 700 options (countries,
organisations, topics), took 36 ms to render, the options nearly all of it. An <input> is a template
including another, which includes a third for the attributes: the admin's list of 100 documents
spent a quarter of its time writing the rows' check boxes. A label is a template including the
attributes' template too. `FormRenderer` writes a select and its options, each input and each label,
exactly as those templates do (tests compare them on every public form and the admin's), and leaves
every other template to Django. Should one of those templates not be Django's own (a renderer that
reads the project's templates first), it is left to Django too.

Django's Select also lists its options, a dictionary for each, before any template is rendered: a
`Select` here lists them only when a template reads them, and the renderer writes its options
straight from its choices.
"""

import html
from collections.abc import Sequence

from django import forms
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import ChoiceWidget
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
INPUT = "django/forms/widgets/input.html"
ATTRS = "django/forms/widgets/attrs.html"
LABEL = "django/forms/label.html"
LABEL_ATTRS = "django/forms/attrs.html"  # the label's attributes (the widgets' are ATTRS)
# The whole of Django's text, number, check box, hidden... input templates.
WRITES_AN_INPUT = '{% include "django/forms/widgets/input.html" %}\n'


def _shown(value):
    """What the templates' {{ value }} writes: the value localised (a date, a number), as text,
    escaped unless it is a string marked safe."""
    if type(value) is str:  # most labels: escaped as django.utils.html.escape does, less its wrapping
        return html.escape(value)
    if not isinstance(value, str):
        value = localize(template_localtime(value))
        if not isinstance(value, str):
            value = str(value)
    return conditional_escape(value)


def _text(value):
    """What the templates' {{ value|stringformat:'s' }} writes: the value's text, escaped unless the
    value or its text is marked safe (an object whose text is made by format_html, a lazy text
    marked safe)."""
    if type(value) is str:
        return html.escape(value)
    if isinstance(value, SafeData):
        return value
    # As the filter formats it: "%" hands back the SafeString a __str__ may return, as it is.
    text = str(value) if isinstance(value, tuple) else "%s" % value  # noqa: UP031
    return text if isinstance(text, SafeData) else escape(text)


def _attrs(attrs):
    """django/forms/widgets/attrs.html: ` name="value"` each, ` name` for True, nothing for False."""
    return "".join(
        "" if value is False else f" {_shown(name)}" + ("" if value is True else f'="{_text(value)}"')
        for name, value in attrs.items()
    )


def _select_tag(widget):
    """The opening tag of django/forms/widgets/select.html."""
    return f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>'


def _option(value, attributes, label):
    """django/forms/widgets/select_option.html, its `attributes` written; the template ends with a
    line break."""
    return f'\n  <option value="{_text(value)}"{attributes}>{_shown(label)}</option>\n'


def render_select(widget):
    """django/forms/widgets/select.html, with select_option.html for each option."""
    parts = [_select_tag(widget)]
    for group_name, group_choices, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            parts.append(_option(option["value"], _attrs(option["attrs"]) if option["attrs"] else "", option["label"]))
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703  # every value above is escaped


class Optgroups(Sequence):
    """What ChoiceWidget.optgroups() gives a Select's template, listed when the template reads it."""

    def __init__(self, select, name, value, attrs):
        self.select, self.name, self.value, self.attrs = select, name, value, attrs
        self._groups = None

    @property
    def listed(self):
        return self._groups is not None

    def _listed(self):
        if self._groups is None:
            self._groups = self.select.optgroups(self.name, self.value, self.attrs)
        return self._groups

    def __getitem__(self, index):
        return self._listed()[index]

    def __len__(self):
        return len(self._listed())

    def __iter__(self):
        return iter(self._listed())

    @property
    def plain(self):
        """Whether its options are Django's: listed by Django's own optgroups() and create_option(),
        written by select_option.html, and with no attributes but the selected one's."""
        select = type(self.select)
        return (
            select.optgroups is ChoiceWidget.optgroups
            and select.create_option is ChoiceWidget.create_option
            and not self.select.option_inherits_attrs
            and self.select.option_template_name == OPTION
            and self.select.checked_attribute == {"selected": True}
        )


class Select(forms.Select):
    """Django's Select, its options listed only when a template reads them (see Optgroups): the
    renderer writes them from the choices (see render_select_choices)."""

    def get_context(self, name, value, attrs):
        # ChoiceWidget's context, its options left to list.
        context = super(ChoiceWidget, self).get_context(name, value, attrs)
        context["widget"]["optgroups"] = Optgroups(self, name, context["widget"]["value"], attrs)
        if self.allow_multiple_selected:
            context["widget"]["attrs"]["multiple"] = True
        return context


def render_select_choices(widget, optgroups):
    """render_select() of a `Select` whose options are not listed yet: each written from its choice
    as ChoiceWidget.optgroups() and create_option() would list it."""
    select, value = optgroups.select, optgroups.value
    multiple = select.allow_multiple_selected
    parts = [_select_tag(widget)]
    has_selected = False
    for option_value, option_label in select.choices:
        if option_value is None:
            option_value = ""
        if isinstance(option_label, (list, tuple)):
            group_name, choices = option_value, option_label
        else:
            group_name, choices = None, [(option_value, option_label)]
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for subvalue, sublabel in choices:
            selected = (not has_selected or multiple) and str(subvalue) in value
            has_selected |= selected
            parts.append(_option(subvalue, " selected" if selected else "", sublabel))
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703  # every value above is escaped


def render_input(widget):
    """django/forms/widgets/input.html."""
    value = widget["value"]
    shown = "" if value is None else f' value="{_text(value)}"'
    return mark_safe(  # noqa: S308  # nosec B308 B703  # every value is escaped
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def render_label(context):
    """django/forms/label.html (a field's label, in its tag when the field has an id)."""
    label = _shown(context["label"])
    if not context["use_tag"]:
        return label.strip()  # as the renderer strips what a template writes
    tag = _shown(context["tag"])
    return mark_safe(f"<{tag}{_attrs(context['attrs'] or {})}>{label}</{tag}>")  # noqa: S308  # nosec B308 B703  # escaped


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if widget is not None:
            if template_name == SELECT:
                optgroups = widget.get("optgroups")
                if isinstance(optgroups, Optgroups) and not optgroups.listed and self._stock and optgroups.plain:
                    return render_select_choices(widget, optgroups)
                if self._plain(widget):
                    return render_select(widget)
            if self._writes_an_input(template_name):
                return render_input(widget)
        elif template_name == LABEL and self._stock_label:
            return render_label(context)
        return super().render(template_name, context, request)

    def _own(self, name):
        """Whether a template is Django's own (not overridden)."""
        return self.get_template(name).origin.name.endswith(f"django/forms/templates/{name}")

    @cached_property
    def _stock(self):
        """Whether the select's, the option's, the input's and the attributes' templates are Django's own."""
        return all(self._own(name) for name in (SELECT, OPTION, INPUT, ATTRS))

    @cached_property
    def _stock_label(self):
        """Whether the label's and the attributes' templates are Django's own."""
        return self._own(LABEL) and self._own(LABEL_ATTRS)

    @cached_property
    def _inputs(self):
        return {}  # template name: whether it is Django's own and writes input.html, nothing else

    def _writes_an_input(self, template_name):
        known = self._inputs.get(template_name)
        if known is None:
            known = self._inputs[template_name] = (
                self._stock
                and self._own(template_name)
                and self.get_template(template_name).template.source == WRITES_AN_INPUT
            )
        return known

    def _plain(self, widget):
        """Whether the select and its options use Django's own templates."""
        return self._stock and all(
            option["template_name"] == OPTION for _, options, _ in widget["optgroups"] for option in options
        )
