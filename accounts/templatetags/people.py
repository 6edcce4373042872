"""{% load people %}: how a person is shown (accounts.people) for templates.

{{ message.author|display_name }}
{% with p=message.author|person %}{{ p.name }} {{ p.initials }} {{ p.avatar_url }}{% endwith %}
{% avatar message.author "sm" %}
"""

from django import template
from django.contrib.auth.models import AbstractBaseUser
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .. import people

register = template.Library()


@register.filter
def person(user: AbstractBaseUser) -> people.Person:
    return people.person(user)


@register.filter
def display_name(user: AbstractBaseUser) -> str:
    return people.name(user)


@register.simple_tag
def avatar(user: AbstractBaseUser, size: str = "") -> SafeString:
    """The person's picture, or their initials on their own colour (avatar-c0 … avatar-c7); `size` adds the
    class avatar-<size> (sm, md, lg: the stylesheet's). Decorative (the name is always written next to it), so
    hidden from screen readers. A tag rather than an included template: every pushed message has one, and
    this costs a fraction of an {% include %}."""
    p = people.person(user)
    sized = f" avatar-{size}" if size else ""
    if p.avatar_url:
        return format_html('<img class="avatar{}" src="{}" alt="" loading="lazy">', sized, p.avatar_url)
    return format_html('<span class="avatar avatar-c{}{}" aria-hidden="true">{}</span>', p.colour, sized, p.initials)
