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
    private = forms.BooleanField(
        label=_("Private"),
        required=False,
        help_text=_("Only the people in it see it, and only its members can invite others."),
    )


class RoomSettingsForm(forms.Form):
    """A room's settings page: what its creator or a moderator may change; private or open, moderators only."""

    name = RoomForm.base_fields["name"]
    topic = forms.CharField(label=_("Topic"), max_length=Room._meta.get_field("topic").max_length, required=False)
    description = RoomForm.base_fields["description"]
    private = forms.BooleanField(
        label=_("Private"), required=False, help_text=_("Members only: everyone else stops seeing it at once.")
    )

    def __init__(self, *args, moderator: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not moderator:
            del self.fields["private"]
