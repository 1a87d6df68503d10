import datetime

from django import template
from django.utils import timezone

from observers import models

register = template.Library()


@register.filter
def long_date(value):
    """“20 March 2016”, as the date filter writes it with "j F Y", formatted once per date: a list of
    excerpts formats the same few dates again and again."""
    return models.long_date(value) if value else ""


@register.filter
def iso_day(value):
    """The day of a date or time as 2016-03-20 (a time in the site's time zone), as the date filter
    writes it with "Y-m-d", without its general formatting machinery. The site activates no other
    time zone than its own, which is therefore read once rather than per value."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.get_default_timezone())
    return value.isoformat()[:10]
