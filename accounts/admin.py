from django.contrib import admin
from django.contrib.admin import FieldListFilter
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

User = get_user_model()

admin.site.unregister(User)


@admin.register(User)
class RoomcastUserAdmin(UserAdmin):
    # Unticking "active" signs the person out of chat at once (see accounts.signals).
    list_display = ["username", "email", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]

    # Moderators may view users (to pick whom to ban or mute) but not manage accounts: they see names and
    # standing, not email addresses, groups or permissions, and cannot find people by their address.
    SEEN_BY_VIEWERS = ("username", "is_active", "date_joined", "last_login")
    FILTERS_FOR_VIEWERS = ("is_active", "date_joined")

    def _manages(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def get_list_display(self, request: HttpRequest):
        return super().get_list_display(request) if self._manages(request) else self.SEEN_BY_VIEWERS

    def get_list_filter(self, request: HttpRequest):
        return super().get_list_filter(request) if self._manages(request) else list(self.FILTERS_FOR_VIEWERS)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """Django accepts any lookup on a model's own fields in the list's query string (UserAdmin refuses only
        password ones), so the answer to ?email__startswith=a, a list or not, spells out an address letter by
        letter. Those who may not see addresses get only their own filters' parameters; anything else is a 400."""
        if self._manages(request):
            return super().lookup_allowed(lookup, value, request)
        return lookup in self._viewer_filter_parameters(request)

    def _viewer_filter_parameters(self, request: HttpRequest) -> set[str]:
        # Exactly what those filters' own links send (e.g. is_active__exact, date_joined__gte).
        parameters: set[str] = set()
        for name in self.FILTERS_FOR_VIEWERS:
            field = self.model._meta.get_field(name)
            spec = FieldListFilter.create(field, request, {}, self.model, self, field_path=name)
            parameters.update(spec.expected_parameters())
        return parameters

    def get_search_fields(self, request: HttpRequest):
        return super().get_search_fields(request) if self._manages(request) else ["username"]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if self._manages(request) or obj is None:
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": self.SEEN_BY_VIEWERS})]
