from django import forms

from .models import Room


class RoomForm(forms.Form):
    name = forms.CharField(max_length=Room._meta.get_field("name").max_length)
    description = forms.CharField(
        max_length=Room._meta.get_field("description").max_length, required=False, widget=forms.TextInput
    )
