from django import template

from observers import models

register = template.Library()


@register.filter
def long_date(value):
    """“20 March 2016”, as the date filter writes it with "j F Y", formatted once per date: a list of
    excerpts formats the same few dates again and again."""
    return models.long_date(value) if value else ""
