"""{% load people %}: how a person is shown (accounts.people) for templates.

{{ message.author|display_name }}
{% with p=message.author|person %}{{ p.name }} {{ p.initials }} {{ p.avatar_url }}{% endwith %}
{% include "accounts/avatar.html" with person=message.author size="sm" %}
"""

from django import template
from django.contrib.auth.models import AbstractBaseUser

from .. import people

register = template.Library()


@register.filter
def person(user: AbstractBaseUser) -> people.Person:
    return people.person(user)


@register.filter
def display_name(user: AbstractBaseUser) -> str:
    return people.name(user)
