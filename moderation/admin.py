"""Admin: rooms and messages, and moderation (reports, bans, mutes, locks, the log) for the Moderators group.

Every moderation action calls moderation.services, which checks the permission, logs it and updates open
pages. The chat's own models (rooms, messages, mutes) are administered here too: admin is the moderators'
tool, and the chat knows nothing of it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from rooms import access, services
from rooms.models import Membership, Message, Mute, Reaction, Room

from . import services as moderation
from .models import Ban, ModerationLog, Report


def excerpt(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


class MembershipForm(forms.ModelForm):
    """A member is added or removed, never changed into someone else (that would hand one person's place, and
    live delivery, to another without either hearing of it); how much reaches them is theirs to choose."""

    class Meta:
        model = Membership
        fields = ["user"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["user"].disabled = True


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    fields = ["user", "joined_at", "last_read_seq"]
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at", "last_read_seq"]

    # Moderators add and remove a room's members (rooms.services does it, live, and checks the same rule); a
    # conversation is its people, always: nobody is added to or removed from one.
    def _may(self, request: HttpRequest, obj: Room | None) -> bool:
        return not (obj and obj.is_conversation) and access.is_moderator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return self._may(request, obj) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return self._may(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return self._may(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return self._may(request, obj)


class OpenFilter(admin.SimpleListFilter):
    """Open or dealt with: reports (resolved or not), bans and mutes (in force or ended), rooms (archived)."""

    title = _("status")
    parameter_name = "status"
    options = {"open": pgettext_lazy("a report's status", "Open"), "closed": _("Resolved")}

    def lookups(self, request, model_admin):
        return list(self.options.items())

    def queryset(self, request, queryset):
        if self.value() in self.options:
            return self.filter(queryset, self.value() == "open")
        return queryset

    def filter(self, queryset: QuerySet, open_: bool) -> QuerySet:
        return queryset.filter(resolved_at__isnull=open_)


class ArchivedFilter(OpenFilter):
    title = _("archived")
    parameter_name = "archived"
    options = {"open": _("No"), "closed": _("Yes")}

    def filter(self, queryset: QuerySet, open_: bool) -> QuerySet:
        return queryset.filter(archived_at__isnull=open_)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "kind", "slug", "members", "locked", "archived", "is_default", "last_seq", "created_by",
        "created_at",
    ]  # fmt: skip
    list_filter = ["kind", "locked", ArchivedFilter, "is_default", "created_at"]
    search_fields = ["name", "slug", "description", "memberships__user__username"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["direct_key", "last_seq", "last_message_at", "created_at", "archived_at"]
    inlines = [MembershipInline]
    actions = ["lock_rooms", "unlock_rooms", "archive_rooms", "unarchive_rooms"]

    def view_on_site(self, room: Room) -> str | None:
        # A direct conversation has no address of its own: each of its two people reaches it by the other's name.
        return None if room.is_direct else room.get_absolute_url()

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> list[str]:
        # Kind is chosen once; a direct conversation is defined by its two people, not by editable fields.
        if obj and (obj.is_conversation or obj.is_archived):  # an archived room stays locked until it is unarchived
            return [f.name for f in Room._meta.fields]
        # Moderators (change_room is theirs for locking) lock and unlock; the rest of a room is the site's.
        if obj and not request.user.is_superuser:
            return [f.name for f in Room._meta.fields if f.name != "locked"]
        return [*self.readonly_fields, "kind"] if obj else self.readonly_fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Room | None = None) -> dict:
        return {} if obj else self.prepopulated_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        rooms = super().get_queryset(request).select_related("created_by").annotate(member_count=Count("memberships"))
        rooms = rooms.order_by(*Room._meta.ordering)  # a GROUP BY drops the model's default order (autocomplete)
        # Who talks privately with whom, when and how much is not a moderator's to browse (nor, through this
        # queryset, the room autocomplete's): private rooms and conversations reach them only through a report.
        return rooms if request.user.is_superuser else rooms.filter(kind=Room.Kind.OPEN)

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, room: Room) -> int:
        return room.member_count

    @admin.display(boolean=True, description=_("archived"), ordering="archived_at")
    def archived(self, room: Room) -> bool:
        return room.is_archived

    # Deleting: only a room nobody wrote in (moderation.delete_room says why); the rest are archived. Moderators
    # have no rooms.delete_room at all. No bulk deletion: each room is checked and logged on its own.
    def has_delete_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or moderation.delete_room_problem(obj) is None
        )

    def get_actions(self, request: HttpRequest, action_location=admin.ActionLocation.CHANGE_LIST) -> dict:
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request: HttpRequest, obj: Room) -> None:
        moderation.delete_room(request.user, obj)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset, change: bool) -> None:
        """Members added or removed here take effect on live pages, as on the room's own page: an added one
        follows it at once, a removed one stops receiving it at once."""
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        room = form.instance
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            try:
                services.remove_member(request.user, room, membership.user_id)
            except services.ChatError as error:  # e.g. oneself: Leave is on the room's page
                self.message_user(request, str(error), messages.ERROR)
        for membership in formset.new_objects:
            services.join(membership.user, room)

    def save_model(self, request: HttpRequest, obj: Room, form: forms.ModelForm, change: bool) -> None:
        # Ticking "locked" is a moderation action like the list's: logged, and live on the room's pages.
        if "locked" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        wanted = obj.locked
        obj.locked = not wanted if change else False
        super().save_model(request, obj, form, change)
        moderation.set_locked(request.user, obj, wanted)

    @admin.action(description=_("Lock selected rooms (read-only for all but moderators)"), permissions=["change"])
    def lock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._set_locked(request, queryset, True)

    @admin.action(description=_("Unlock selected rooms"), permissions=["change"])
    def unlock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._set_locked(request, queryset, False)

    def _set_locked(self, request: HttpRequest, queryset: QuerySet[Room], locked: bool) -> None:
        rooms = queryset.filter(kind__in=Room.ROOMS, archived_at__isnull=True)
        changed = sum(moderation.set_locked(request.user, room, locked) for room in rooms)
        self._skipped(request, queryset, archived_too=True)
        if locked:
            text = ngettext("%(count)s room locked.", "%(count)s rooms locked.", changed)
        else:
            text = ngettext("%(count)s room unlocked.", "%(count)s rooms unlocked.", changed)
        self.message_user(request, text % {"count": changed})

    @admin.action(
        description=_("Archive selected rooms (read-only for all, off the room list)"), permissions=["change"]
    )
    def archive_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        rooms = queryset.filter(kind__in=Room.ROOMS)
        changed = sum(moderation.set_archived(request.user, room, True) for room in rooms)
        self._skipped(request, queryset)
        text = ngettext("%(count)s room archived.", "%(count)s rooms archived.", changed)
        self.message_user(request, text % {"count": changed})

    @admin.action(description=_("Unarchive selected rooms (and unlock them)"), permissions=["change"])
    def unarchive_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        rooms = queryset.filter(kind__in=Room.ROOMS)
        changed = sum(moderation.set_archived(request.user, room, False) for room in rooms)
        self._skipped(request, queryset)
        text = ngettext("%(count)s room unarchived.", "%(count)s rooms unarchived.", changed)
        self.message_user(request, text % {"count": changed})

    def _skipped(self, request: HttpRequest, queryset: QuerySet[Room], archived_too: bool = False) -> None:
        if direct := queryset.exclude(kind__in=Room.ROOMS).count():
            text = ngettext("%(count)s conversation skipped.", "%(count)s conversations skipped.", direct)
            self.message_user(request, text % {"count": direct}, messages.WARNING)
        if archived_too and (archived := queryset.filter(kind__in=Room.ROOMS, archived_at__isnull=False).count()):
            text = ngettext(
                "%(count)s archived room skipped: unarchive it first.",
                "%(count)s archived rooms skipped: unarchive them first.",
                archived,
            )
            self.message_user(request, text % {"count": archived}, messages.WARNING)


class RemovedFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "removed"

    def lookups(self, request, model_admin):
        return [("no", _("Visible")), ("yes", _("Removed by a moderator"))]

    def queryset(self, request, queryset):
        if self.value() in {"no", "yes"}:
            return queryset.filter(deleted_at__isnull=self.value() == "no")
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "author", "room", "created_at", "removed"]
    list_filter = [RemovedFilter, "created_at"]
    search_fields = ["body", "author__username", "room__name"]
    list_select_related = ["author", "room"]
    readonly_fields = ["room", "author", "body", "seq", "client_id", "created_at", "deleted_at", "deleted_by"]
    date_hierarchy = "created_at"
    actions = ["remove_all_by_author"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        # Privacy: direct messages are between their two people. Moderators read one only when one of them
        # reports it (the report queue shows it, in context).
        return super().get_queryset(request).filter(room__kind=Room.Kind.OPEN)

    @admin.display(description=_("message"))
    def excerpt(self, message: Message) -> str:
        return excerpt(message.body)

    @admin.display(boolean=True, description=_("removed"), ordering="deleted_at")
    def removed(self, message: Message) -> bool:
        return message.deleted_at is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Messages are written in chat, where they are validated and broadcast.
        return False

    # "Delete" removes the message from every open screen at once and keeps the row for the record.
    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        moderation.remove_messages(request.user, Message.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        moderation.remove_messages(request.user, queryset)

    def get_deleted_objects(self, objs, request: HttpRequest):
        # Nothing is deleted with a message (it is only hidden), so there is nothing else to list or permit.
        objs = list(objs)
        return [str(m) for m in objs], {self.opts.verbose_name_plural: len(objs)}, set(), []

    @admin.action(description=_("Remove all messages by this author in this room"), permissions=["delete"])
    def remove_all_by_author(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        pairs = {(m.author_id, m.room_id): m for m in queryset.select_related("author", "room")}.values()
        removed = sum(len(moderation.remove_all_by(request.user, m.author, m.room)) for m in pairs)
        text = ngettext("%(count)s message removed.", "%(count)s messages removed.", removed)
        self.message_user(request, text % {"count": removed})


@admin.register(Reaction)
class ReactionAdmin(admin.ModelAdmin):
    """Reactions in open rooms (as for messages, direct conversations stay private): a moderator removes one
    and it goes from every screen at once."""

    list_display = ["emoji", "user", "message_excerpt", "room", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["user__username", "emoji", "message__body", "message__room__name"]
    list_select_related = ["user", "message__room"]
    readonly_fields = ["message", "user", "emoji", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reaction]:
        return super().get_queryset(request).filter(message__room__kind=Room.Kind.OPEN)

    @admin.display(description=_("message"))
    def message_excerpt(self, reaction: Reaction) -> str:
        return excerpt(reaction.message.body)

    @admin.display(description=_("room"), ordering="message__room__name")
    def room(self, reaction: Reaction) -> Room:
        return reaction.message.room

    # Moderators (whoever may remove messages) see and remove reactions; nobody adds or edits one here.
    def has_view_permission(self, request: HttpRequest, obj: Reaction | None = None) -> bool:
        return access.is_moderator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Reaction | None = None) -> bool:
        return access.is_moderator(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Reaction | None = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.is_moderator(request.user)

    def delete_model(self, request: HttpRequest, obj: Reaction) -> None:
        moderation.remove_reactions(request.user, Reaction.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Reaction]) -> None:
        moderation.remove_reactions(request.user, queryset)


# ---- moderation ----------------------------------------------------------------------------------------


class BanStatusFilter(OpenFilter):
    options = {"open": _("In force"), "closed": _("Ended")}

    def filter(self, queryset: QuerySet, open_: bool) -> QuerySet:
        active = Ban.objects.active().values("pk")
        return queryset.filter(pk__in=active) if open_ else queryset.exclude(pk__in=active)


class MuteStatusFilter(OpenFilter):
    options = {"open": _("In force"), "closed": _("Ended")}

    def filter(self, queryset: QuerySet, open_: bool) -> QuerySet:
        return queryset.filter(until__gt=timezone.now()) if open_ else queryset.filter(until__lte=timezone.now())


BAN_DAYS = ("1", "7", "30")  # what a ban from the report queue may last, besides until lifted


def ban_choices() -> list[tuple[str, str]]:
    """The report page's choice of a ban's length, in the moderator's language."""
    days = [(n, ngettext("%(count)s day", "%(count)s days", int(n)) % {"count": n}) for n in BAN_DAYS]
    return [("", gettext("until lifted")), *days]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The report queue: open reports first; each action applies to the reported message (or its author) and
    resolves every open report about it."""

    list_display = [
        "message_excerpt", "author", "room", "reports_on_message", "reporter", "reason", "created_at", "status",
    ]  # fmt: skip
    list_display_links = ["message_excerpt"]
    list_filter = [OpenFilter, "resolution", "message__room__kind", "created_at"]
    search_fields = ["reason", "reported_body", "message__body", "message__author__username", "reporter__username"]
    list_select_related = ["message__author", "message__room", "reporter", "resolved_by"]
    fields = [
        "reported_text", "message_now", "author", "room", "reporter", "reason", "created_at", "status", "resolved_by",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["remove_message", "remove_all_by_author", "mute_author", "ban_author", "dismiss"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        per_message = (
            Report.objects.filter(message=OuterRef("message")).order_by().values("message").annotate(n=Count("pk"))
        )
        return super().get_queryset(request).annotate(message_reports=Subquery(per_message.values("n")))

    def get_ordering(self, request: HttpRequest) -> list:
        return [F("resolved_at").desc(nulls_first=True), "-created_at"]  # open ones (no resolved_at) first

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports come from chat

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False  # the record

    # Each list action and button needs the permission of what it does, on top of changing the report.
    def has_remove_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request) and request.user.has_perm("rooms.delete_message")

    def has_mute_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request) and request.user.has_perm("rooms.add_mute")

    def has_ban_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request) and request.user.has_perm("moderation.add_ban")

    # What was reported, not what the message says now: its author may have edited it since.
    @admin.display(description=_("message"))
    def message_excerpt(self, report: Report) -> str:
        text = excerpt(report.reported_body)
        if report.edited_since:
            text = gettext("%(text)s (edited after it was reported)") % {"text": text}
        return f"{text} {gettext('(removed)')}" if report.message.is_deleted else text

    @admin.display(description=_("reported message"))
    def reported_text(self, report: Report) -> str:
        return report.reported_body

    @admin.display(description=_("the message now"))
    def message_now(self, report: Report) -> str:
        if report.message.is_deleted:
            return gettext("Removed.")
        if report.edited_since:
            return gettext("Edited after it was reported. It now says: %(body)s") % {"body": report.message.body}
        return gettext("Unchanged since it was reported.")

    @admin.display(description=_("author"), ordering="message__author__username")
    def author(self, report: Report):
        return report.message.author

    @admin.display(description=_("room"), ordering="message__room")
    def room(self, report: Report) -> Room:
        return report.message.room

    @admin.display(description=_("reports on this message"))
    def reports_on_message(self, report: Report) -> int:
        return report.message_reports

    @admin.display(description=_("status"), ordering="resolved_at")
    def status(self, report: Report) -> str:
        if report.is_open:
            return pgettext("a report's status", "Open")
        # In the moderator's time zone, as admin shows every other time.
        resolved_at = timezone.localtime(report.resolved_at)
        return f"{report.get_resolution_display()} ({resolved_at:%Y-%m-%d %H:%M})"

    # ---- acting: list actions, and buttons on the report's page ------------------------------------------

    @admin.action(description=_("Remove message"), permissions=["remove"])
    def remove_message(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._act(request, queryset, "remove")

    @admin.action(description=_("Remove all by author in this room"), permissions=["remove"])
    def remove_all_by_author(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._act(request, queryset, "remove_all")

    @admin.action(description=_("Mute author in this room for 24 h"), permissions=["mute"])
    def mute_author(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._act(request, queryset, "mute")

    @admin.action(description=_("Ban author (until lifted)"), permissions=["ban"])
    def ban_author(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._act(request, queryset, "ban")

    @admin.action(description=_("Dismiss"), permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._act(request, queryset, "dismiss")

    def _act(self, request: HttpRequest, reports, action: str, note: str = "", ban_until=None) -> bool:
        reports = list(reports.select_related("message__author", "message__room"))
        try:
            count = moderation.act_on_reports(request.user, reports, action, note, ban_until)
        except services.ChatError as error:
            self.message_user(request, str(error), messages.ERROR)
            return False
        text = ngettext(
            "%(action)s: done for %(count)s reported message.",
            "%(action)s: done for %(count)s reported messages.",
            count,
        )
        self.message_user(
            request, text % {"action": moderation.QUEUE_ACTIONS[action][0], "count": count}, messages.SUCCESS
        )
        return True

    def _allowed_actions(self, request: HttpRequest) -> list[tuple[str, str]]:
        return [
            (name, label)
            for name, (label, permission, _) in moderation.QUEUE_ACTIONS.items()
            if request.user.has_perm(permission)
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        report = self.get_object(request, object_id)
        extra = {"title": pgettext("the page of one report in the queue", "Report")}
        if report is not None:
            extra |= {
                "report_context": moderation.report_context(report),
                "queue_actions": self._allowed_actions(request) if self.has_change_permission(request, report) else [],
                "can_ban": request.user.has_perm("moderation.add_ban"),
                "ban_choices": ban_choices(),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def save_model(self, request: HttpRequest, obj: Report, form: forms.ModelForm, change: bool) -> None:
        pass  # nothing on the page is editable; its buttons act through response_change

    def response_change(self, request: HttpRequest, obj: Report) -> HttpResponse:
        action = next((name for name in moderation.QUEUE_ACTIONS if f"_{name}" in request.POST), None)
        if action is None:
            return super().response_change(request, obj)
        days = request.POST.get("ban_days", "")
        until = timezone.now() + dt.timedelta(days=int(days)) if days in BAN_DAYS else None
        note = request.POST.get("note", "").strip()[:500]
        if self._act(request, Report.objects.filter(pk=obj.pk), action, note, until):
            return HttpResponseRedirect(reverse("admin:moderation_report_changelist"))  # back to the queue
        return HttpResponseRedirect(request.path)


class BanForm(forms.ModelForm):
    actor = None  # the moderator, set by BanAdmin.get_form

    class Meta:
        model = Ban
        fields = ["user", "reason", "until"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("user") and (problem := moderation.ban_problem(self.actor, data["user"], data.get("until"))):
            raise forms.ValidationError(problem)
        return data


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    """Bans are made here (or from a report) and lifted by the action; a ban's row is never edited."""

    form = BanForm
    list_display = ["user", "in_force", "until", "reason", "created_by", "created_at", "lifted_by", "lifted_at"]
    list_filter = [BanStatusFilter, "created_at"]
    search_fields = ["user__username", "reason"]
    list_select_related = ["user", "created_by", "lifted_by"]
    autocomplete_fields = ["user"]
    actions = ["lift"]

    def get_form(self, request: HttpRequest, obj: Ban | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request: HttpRequest, obj: Ban | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", "reason", "until", "created_by", "created_at", "lifted_by", "lifted_at"]

    def has_delete_permission(self, request: HttpRequest, obj: Ban | None = None) -> bool:
        return False  # the record; lifting ends a ban

    @admin.display(boolean=True, description=_("in force"))
    def in_force(self, ban: Ban) -> bool:
        return ban.is_active

    def save_model(self, request: HttpRequest, obj: Ban, form: forms.ModelForm, change: bool) -> None:
        if change:
            return  # nothing is editable once made
        made = moderation.ban(request.user, obj.user, obj.reason, obj.until)
        obj.pk, obj.created_at, obj.created_by = made.pk, made.created_at, made.created_by

    @admin.action(description=_("Lift ban"), permissions=["change"])
    def lift(self, request: HttpRequest, queryset: QuerySet[Ban]) -> None:
        try:
            lifted = moderation.lift_bans(request.user, queryset)
        except services.ChatError as error:
            self.message_user(request, gettext("%(error)s No ban was lifted.") % {"error": error}, messages.ERROR)
            return
        self.message_user(
            request, ngettext("%(count)s ban lifted.", "%(count)s bans lifted.", lifted) % {"count": lifted}
        )


class MuteForm(forms.ModelForm):
    actor = None  # the moderator, set by MuteAdmin.get_form

    class Meta:
        model = Mute
        fields = ["room", "user", "until", "reason"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "room" in self.fields:
            # Open rooms only: a mute in a direct conversation comes from a report about it. This queryset also
            # decides what the form can show back for a submitted id, so it never names a direct conversation.
            self.fields["room"].queryset = Room.objects.filter(kind=Room.Kind.OPEN)

    def clean(self) -> dict:
        data = super().clean()
        # Changing a mute keeps its room and person (read-only on the page): those are checked then.
        room = data.get("room") or (self.instance.room if self.instance.pk else None)
        user = data.get("user") or (self.instance.user if self.instance.pk else None)
        if room and user and data.get("until"):
            if problem := moderation.mute_problem(self.actor, room, user, data["until"]):
                raise forms.ValidationError(problem)
        return data


@admin.register(Mute)
class MuteAdmin(admin.ModelAdmin):
    form = MuteForm
    list_display = ["user", "room", "in_force", "until", "reason", "created_by", "created_at"]
    list_filter = [MuteStatusFilter, "created_at"]
    search_fields = ["user__username", "room__name", "reason"]
    list_select_related = ["user", "room", "created_by"]
    autocomplete_fields = ["room", "user"]
    actions = ["unmute"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"until": timezone.now() + moderation.REPORT_MUTE, **super().get_changeform_initial_data(request)}

    def get_form(self, request: HttpRequest, obj: Mute | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    # A mute the moderator could not have made (their own, a staff member's) they can neither change nor end.
    def has_change_permission(self, request: HttpRequest, obj: Mute | None = None) -> bool:
        return super().has_change_permission(request, obj) and not (
            obj and moderation.hierarchy_problem(request.user, obj.user, "mute")
        )

    def has_delete_permission(self, request: HttpRequest, obj: Mute | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (
            obj and moderation.hierarchy_problem(request.user, obj.user, "unmute")
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Mute | None = None) -> list[str]:
        return ["room", "user", "created_by", "created_at"] if obj else []

    def get_actions(self, request: HttpRequest, action_location=admin.ActionLocation.CHANGE_LIST) -> dict:
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)  # "Unmute" does it, logged
        return actions

    @admin.display(boolean=True, description=_("in force"))
    def in_force(self, mute: Mute) -> bool:
        return mute.is_active

    def save_model(self, request: HttpRequest, obj: Mute, form: forms.ModelForm, change: bool) -> None:
        made = moderation.mute(request.user, obj.room, obj.user, obj.until, obj.reason)
        obj.pk, obj.created_at, obj.created_by = made.pk, made.created_at, made.created_by

    def delete_model(self, request: HttpRequest, obj: Mute) -> None:
        moderation.unmute(request.user, Mute.objects.filter(pk=obj.pk))

    @admin.action(description=_("Unmute"), permissions=["delete"])
    def unmute(self, request: HttpRequest, queryset: QuerySet[Mute]) -> None:
        try:
            ended = moderation.unmute(request.user, queryset)
        except services.ChatError as error:
            self.message_user(request, gettext("%(error)s No mute was ended.") % {"error": error}, messages.ERROR)
            return
        self.message_user(
            request, ngettext("%(count)s mute ended.", "%(count)s mutes ended.", ended) % {"count": ended}
        )


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    """The audit trail: read-only for everyone."""

    list_display = ["created_at", "actor", "action", "target_user", "room", "message_ref", "reason", "details"]
    list_filter = ["action", ("actor", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["reason", "details", "actor__username", "target_user__username", "room__name"]
    list_select_related = ["actor", "target_user", "room"]
    date_hierarchy = "created_at"
    # The message by number only: a direct message's words stay with its report.
    fields = ["created_at", "actor", "action", "target_user", "room", "message_ref", "reason", "details"]
    readonly_fields = fields

    @admin.display(description=_("message"))
    def message_ref(self, entry: ModerationLog) -> str:
        return f"#{entry.message_id}" if entry.message_id else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModerationLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModerationLog | None = None) -> bool:
        return False
