from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Room


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=Room._meta.get_field("name").max_length)
    description = forms.CharField(
        label=_("Description"),
        max_length=Room._meta.get_field("description").max_length,
        required=False,
        widget=forms.TextInput,
    )
