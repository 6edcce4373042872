from django.contrib import admin
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

    def _manages(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def get_list_display(self, request: HttpRequest):
        return super().get_list_display(request) if self._manages(request) else self.SEEN_BY_VIEWERS

    def get_list_filter(self, request: HttpRequest):
        return super().get_list_filter(request) if self._manages(request) else ["is_active", "date_joined"]

    def get_search_fields(self, request: HttpRequest):
        return super().get_search_fields(request) if self._manages(request) else ["username"]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if self._manages(request) or obj is None:
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": self.SEEN_BY_VIEWERS})]
