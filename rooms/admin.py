from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from . import services
from .models import Membership, Message, Room


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at", "last_read_seq"]

    # A direct conversation is its two people, always: nobody is added to or removed from one.
    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return not (obj and obj.is_direct) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return not (obj and obj.is_direct) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return not (obj and obj.is_direct) and super().has_delete_permission(request, obj)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "slug", "members", "last_seq", "created_by", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["name", "slug", "description", "memberships__user__username"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["direct_key", "last_seq", "last_message_at", "created_at"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> list[str]:
        # Kind is chosen once; a direct conversation is defined by its two people, not by editable fields.
        if obj and obj.is_direct:
            return [f.name for f in Room._meta.fields]
        return [*self.readonly_fields, "kind"] if obj else self.readonly_fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Room | None = None) -> dict:
        return {} if obj else self.prepopulated_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        return super().get_queryset(request).select_related("created_by").annotate(member_count=Count("memberships"))

    @admin.display(ordering="member_count")
    def members(self, room: Room) -> int:
        return room.member_count


class RemovedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "removed"

    def lookups(self, request, model_admin):
        return [("no", "Visible"), ("yes", "Removed by a moderator")]

    def queryset(self, request, queryset):
        if self.value() in {"no", "yes"}:
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "author", "room", "created_at", "removed"]
    list_filter = [RemovedFilter, "room__kind", "created_at"]
    search_fields = ["body", "author__username", "room__name"]
    list_select_related = ["author", "room"]
    readonly_fields = ["room", "author", "body", "seq", "client_id", "created_at", "deleted_at", "deleted_by"]
    date_hierarchy = "created_at"

    @admin.display(description="message")
    def excerpt(self, message: Message) -> str:
        return message.body if len(message.body) <= 80 else message.body[:79] + "…"

    @admin.display(boolean=True, ordering="deleted_at")
    def removed(self, message: Message) -> bool:
        return message.deleted_at is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Messages are written in chat, where they are validated and broadcast.
        return False

    # "Delete" removes the message from every open screen at once and keeps the row for the record.
    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        services.delete_messages(Message.objects.filter(pk=obj.pk), by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        services.delete_messages(queryset, by=request.user)
