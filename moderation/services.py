"""Moderation: removing messages, bans, mutes, locks, reports and the audit trail.

Admin classes and the socket's report action only call these. Each action checks the actor's permission, makes its
change and writes its ModerationLog row in one transaction, and reaches open pages on commit (rendered once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from allauth.usersessions.models import UserSession
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

import realtime
from rooms import access, frames, services
from rooms.access import when
from rooms.models import Message, Mute, Reaction, Room

from .models import Ban, ModerationLog, Report

Action = ModerationLog.Action
Resolution = Report.Resolution

UNLOCK_ARCHIVED = _("This room is archived: unarchive it to let people write again.")
THANKS = _("Thanks, a moderator will review it.")
ALREADY_REVIEWED = _("A moderator has already reviewed your report of this message.")
REPORT_MUTE = dt.timedelta(hours=24)  # "Mute author in this room for 24 h" in the report queue
CONTEXT = 3  # messages shown on each side of a reported one


def _require(actor: AbstractBaseUser, permission: str) -> None:
    # Admin checks its own permissions first; this keeps every caller of a service honest.
    if not actor.has_perm(permission):
        raise PermissionDenied


def _log(actor: AbstractBaseUser, action: str, **fields) -> ModerationLog:
    return ModerationLog.objects.create(actor=actor, action=action, **fields)


# The log's details are written in the acting moderator's language, like the reason they type beside them.
def _until(moment: dt.datetime) -> str:
    return gettext("until %(when)s") % {"when": when(moment)}


# What each action on a person is refused with: on oneself, and on staff by someone who is not a superuser.
HIERARCHY = {
    "ban": (_("You can't ban yourself."), _("Only a superuser can ban a staff member.")),
    "lift": (_("You can't lift your own ban."), _("Only a superuser can lift a staff member's ban.")),
    "mute": (_("You can't mute yourself."), _("Only a superuser can mute a staff member.")),
    "unmute": (_("You can't unmute yourself."), _("Only a superuser can unmute a staff member.")),
}


def hierarchy_problem(actor: AbstractBaseUser, user: AbstractBaseUser, act: str) -> str | None:
    """Why `actor` may not `act` (a key of HIERARCHY) on `user`: nobody acts on themselves, and only superusers
    act on staff (a moderator must not silence, or free, those who oversee moderators)."""
    own, staff = HIERARCHY[act]
    if user.pk == actor.pk:
        return str(own)
    if (user.is_staff or user.is_superuser) and not actor.is_superuser:
        return str(staff)
    return None


def _refuse_any(actor: AbstractBaseUser, users: Iterable[AbstractBaseUser], act: str) -> None:
    """All or nothing: one person the actor may not act on refuses the whole batch, with the reason."""
    for user in users:
        if problem := hierarchy_problem(actor, user, act):
            raise services.ChatError(problem)


# ---- removing messages ---------------------------------------------------------------------------------


def remove_messages(actor: AbstractBaseUser, messages: QuerySet[Message], reason: str = "") -> list[Message]:
    """A moderator removes messages from every screen (one frame per room). Removing someone else's message
    is logged, and the open reports about it are resolved."""
    _require(actor, "rooms.delete_message")
    with transaction.atomic():
        removed = services.delete_messages(messages, by=actor)
        record_removal(actor, removed, reason)
    return removed


def record_removal(actor: AbstractBaseUser, removed: list[Message], reason: str = "") -> None:
    """Log the removal of other people's messages and resolve the reports about them (in the caller's
    transaction): from admin, or from a page (the chat's removed_by_moderator signal, receivers.py)."""
    others = [m for m in removed if m.author_id != actor.pk]
    ModerationLog.objects.bulk_create(
        ModerationLog(
            actor=actor, action=Action.REMOVE, target_user_id=m.author_id, room_id=m.room_id, message=m,
            reason=reason,
        )
        for m in others
    )  # fmt: skip
    _resolve(actor, [m.pk for m in others], Resolution.REMOVED, reason)


def remove_all_by(actor: AbstractBaseUser, author: AbstractBaseUser, room: Room, reason: str = "") -> list[Message]:
    """Every visible message of one person in one room, gone from every screen in one frame."""
    _require(actor, "rooms.delete_message")
    with transaction.atomic():
        removed = services.delete_messages(Message.objects.filter(room=room, author=author), by=actor)
        _log(
            actor, Action.REMOVE_ALL, target_user=author, room=room, reason=reason,
            details=ngettext("%(count)s message removed", "%(count)s messages removed", len(removed))
            % {"count": len(removed)},
        )  # fmt: skip
        _resolve(actor, [m.pk for m in removed], Resolution.REMOVED_ALL, reason)
    return removed


def remove_reactions(actor: AbstractBaseUser, reactions: QuerySet[Reaction], reason: str = "") -> int:
    """A moderator takes reactions off messages, on every screen at once (each message changes once); each
    removal is logged. Returns how many went."""
    _require(actor, "rooms.delete_message")  # the one moderator permission (rooms.access.is_moderator)
    with transaction.atomic():
        doomed = list(reactions.select_related("message"))
        services.remove_reactions(doomed)
        ModerationLog.objects.bulk_create(
            ModerationLog(
                actor=actor, action=Action.REMOVE_REACTION, target_user_id=r.user_id, room_id=r.message.room_id,
                message=r.message, reason=reason, details=r.emoji,
            )
            for r in doomed
        )  # fmt: skip
    return len(doomed)


# ---- bans ----------------------------------------------------------------------------------------------


def ban_problem(actor: AbstractBaseUser, user: AbstractBaseUser, until: dt.datetime | None) -> str | None:
    """Why this ban cannot be made, if it cannot (the admin form shows it)."""
    if problem := hierarchy_problem(actor, user, "ban"):
        return problem
    if until is not None and until <= timezone.now():
        return gettext("A ban must end in the future (or leave the end empty).")
    return None


def ban(actor: AbstractBaseUser, user: AbstractBaseUser, reason: str = "", until: dt.datetime | None = None) -> Ban:
    """Suspend someone site-wide: their sessions end, their open pages are closed (4403), and the
    authentication backend (accounts.backends) refuses them until the ban is lifted or runs out."""
    _require(actor, "moderation.add_ban")
    if problem := ban_problem(actor, user, until):
        raise services.ChatError(problem)
    with transaction.atomic():
        ban = Ban.objects.create(user=user, reason=reason.strip(), until=until, created_by=actor)
        _log(
            actor, Action.BAN, target_user=user, reason=ban.reason,
            details=_until(until) if until else gettext("until lifted"),
        )  # fmt: skip
        # First, so the pages hear "forbidden" (4403) before their sessions' own "signed out" (accounts.signals).
        group = realtime.user_group(user.pk)
        transaction.on_commit(lambda: realtime.close_sockets(group, realtime.CLOSE_FORBIDDEN), robust=True)
        # allauth records every session it logs in; end them all. Sessions it did not record (the admin's own
        # login form) are refused anyway: the backend's get_user says no while the ban lasts.
        for session in UserSession.objects.filter(user=user):
            session.end()
    return ban


def lift_bans(actor: AbstractBaseUser, bans: QuerySet[Ban], reason: str = "") -> int:
    """End bans that are still in force; the person can log in again (their old sessions stay ended). Refused
    as a whole if one of them is a ban the actor may not lift (their own, or a staff member's)."""
    _require(actor, "moderation.change_ban")
    with transaction.atomic():
        lifting = list(bans.active().select_related("user").select_for_update(of=("self",)))
        _refuse_any(actor, (b.user for b in lifting), "lift")
        now = timezone.now()
        for b in lifting:
            b.lifted_at, b.lifted_by = now, actor
        Ban.objects.bulk_update(lifting, ["lifted_at", "lifted_by"])
        ModerationLog.objects.bulk_create(
            ModerationLog(actor=actor, action=Action.LIFT_BAN, target_user_id=b.user_id, reason=reason) for b in lifting
        )
    return len(lifting)


def active_ban(user: AbstractBaseUser) -> Ban | None:
    """The ban in force that ends last (one without an end first)."""
    return Ban.objects.active().filter(user=user).order_by(F("until").desc(nulls_first=True)).first()


def suspension_text(ban: Ban) -> str:
    if ban.until:
        text = gettext("Your account is suspended until %(when)s.") % {"when": when(ban.until)}
    else:
        text = gettext("Your account is suspended until a moderator lifts the ban.")
    if ban.reason:
        text += " " + gettext("Reason: %(reason)s") % {"reason": ban.reason}
    return text


# ---- mutes ---------------------------------------------------------------------------------------------


def mute_problem(actor: AbstractBaseUser, room: Room, user: AbstractBaseUser, until: dt.datetime) -> str | None:
    """Why this mute cannot be made, if it cannot (the admin form shows it)."""
    if problem := hierarchy_problem(actor, user, "mute"):
        return problem
    if until <= timezone.now():
        return gettext("A mute must end in the future.")
    # What happens in a conversation reaches moderators only when one of its people reports it.
    if room.is_conversation and not Report.objects.filter(message__room=room, message__author=user).exists():
        return gettext("Someone can be muted in a conversation only from a report about their message there.")
    return None


def mute(actor: AbstractBaseUser, room: Room, user: AbstractBaseUser, until: dt.datetime, reason: str = "") -> Mute:
    """Someone may read the room but not write in it until `until`; muting again replaces the end and reason."""
    _require(actor, "rooms.add_mute")
    if problem := mute_problem(actor, room, user, until):
        raise services.ChatError(problem)
    with transaction.atomic():
        muted, _ = Mute.objects.update_or_create(
            room=room,
            user=user,
            defaults={"until": until, "reason": reason.strip(), "created_by": actor, "created_at": timezone.now()},
        )
        _log(actor, Action.MUTE, target_user=user, room=room, reason=muted.reason, details=_until(until))
    return muted


def unmute(actor: AbstractBaseUser, mutes: QuerySet[Mute], reason: str = "") -> int:
    """End mutes; refused as a whole if one of them is the actor's own or a staff member's."""
    _require(actor, "rooms.delete_mute")
    with transaction.atomic():
        ending = list(mutes.select_related("user").select_for_update(of=("self",)))
        _refuse_any(actor, (m.user for m in ending), "unmute")
        Mute.objects.filter(pk__in=[m.pk for m in ending]).delete()
        ModerationLog.objects.bulk_create(
            ModerationLog(
                actor=actor, action=Action.UNMUTE, target_user_id=m.user_id, room_id=m.room_id, reason=reason,
                details=gettext("was muted until %(when)s") % {"when": when(m.until)},
            )
            for m in ending
        )  # fmt: skip
    return len(ending)


# ---- locks ---------------------------------------------------------------------------------------------


def set_locked(actor: AbstractBaseUser, room: Room, locked: bool, reason: str = "") -> bool:
    """Lock (read-only for all but moderators) or unlock a room; its open pages change at once.
    False if it already was."""
    _require(actor, "rooms.change_room")
    if not room.is_room:
        raise services.ChatError(gettext("Only rooms can be locked, not conversations."))
    with transaction.atomic():
        rooms = Room.objects.filter(pk=room.pk)
        # An archived room stays locked (the send's statement relies on it) until it is unarchived.
        changed = rooms.exclude(locked=locked).filter(archived_at__isnull=True).update(locked=locked)
        if not changed:
            if not locked and rooms.filter(archived_at__isnull=False).exists():
                raise services.ChatError(str(UNLOCK_ARCHIVED))
            return False
        room.locked = locked
        _log(actor, Action.LOCK if locked else Action.UNLOCK, room=room, reason=reason)
        transaction.on_commit(lambda: frames.show_room_state(room), robust=True)
    return True


# ---- archiving and deleting rooms ----------------------------------------------------------------------


def set_archived(actor: AbstractBaseUser, room: Room, archived: bool, reason: str = "") -> bool:
    """Archive a room or bring it back, from admin (the room's settings page does the same for its creator):
    rooms.services.set_archived, which the log hears of (log_room_change). False if it already was."""
    _require(actor, "rooms.change_room")
    if not room.is_room:
        raise services.ChatError(gettext("Only rooms can be archived, not conversations."))
    return services.set_archived(actor, room, archived, reason)


# What each change to a room is logged as (rooms.signals.room_changed).
ROOM_CHANGES = {
    "archive": Action.ARCHIVE,
    "unarchive": Action.UNARCHIVE,
    "private": Action.MAKE_PRIVATE,
    "open": Action.MAKE_OPEN,
}


def log_room_change(actor: AbstractBaseUser, room: Room, change: str, reason: str = "") -> None:
    _log(actor, ROOM_CHANGES[change], room=room, reason=reason)


def delete_room_problem(room: Room) -> str | None:
    """Why this room cannot be deleted, if it cannot. Only a room nobody wrote in goes (spam, a mistake): one
    with messages is the record (its reports and the log point into it), and is archived instead."""
    if not room.is_room:
        return gettext("Conversations can't be deleted.")
    if Message.objects.filter(room=room).exists():
        return gettext("This room has messages, so it can't be deleted: archive it instead.")
    return None


def delete_room(actor: AbstractBaseUser, room: Room, reason: str = "") -> None:
    """Delete a room without messages (rooms.delete_room: superusers; the Moderators group archives)."""
    _require(actor, "rooms.delete_room")
    with transaction.atomic():
        # The room's row, held until commit: a send (which updates it first) waits, then finds it gone.
        room = Room.objects.select_for_update().get(pk=room.pk)
        if problem := delete_room_problem(room):
            raise services.ChatError(problem)
        _log(actor, Action.DELETE_ROOM, reason=reason, details=f"#{room.name} ({room.slug})")
        room.delete()


# ---- reports -------------------------------------------------------------------------------------------


def report_message(user: AbstractBaseUser, message_id: int, reason: str) -> Report:
    """Anyone who can see a message (not their own) asks moderators to look at it; the report keeps the text
    as it is now. Reporting it again while the report is open updates the reason (the reported text stays).
    Once moderators have dealt with it, only someone new reopens the question, or the same person if the
    message has been edited since: otherwise one person could put a dismissed message back in the queue
    forever."""
    reason = services.clean_text(
        reason,
        name=gettext("The reason"),
        limit=Report.REASON_MAX_LENGTH,
        empty=gettext("Please say what is wrong with this message."),
    )
    message = Message.objects.visible().filter(pk=message_id).first()
    if message is None or access.readable_room(user, message.room_id) is None:
        raise services.ChatError(gettext("That message no longer exists."))
    if message.author_id == user.pk:
        raise services.ChatError(gettext("You can't report your own message."))
    with transaction.atomic():
        report, created = Report.objects.select_for_update().get_or_create(
            message=message, reporter=user, defaults={"reason": reason, "reported_body": message.body}
        )
        if created:
            return report
        if report.is_open:
            report.reason = reason
            report.save(update_fields=["reason"])
            return report
        if message.edited_at is None or message.edited_at <= report.resolved_at:
            raise services.ChatError(str(ALREADY_REVIEWED))
        report.reason, report.reported_body, report.created_at = reason, message.body, timezone.now()
        report.resolved_at, report.resolved_by, report.resolution = None, None, ""
        report.save()
    return report


def _resolve(actor: AbstractBaseUser, message_ids: list[int], resolution: str, reason: str) -> int:
    """Close the open reports about these messages, with one log row per message."""
    reports = Report.objects.filter(message_id__in=message_ids, resolved_at__isnull=True)
    counts = dict(reports.order_by().values("message").annotate(n=Count("pk")).values_list("message", "n"))
    if not counts:
        return 0
    reports.update(resolved_at=timezone.now(), resolved_by=actor, resolution=resolution)
    action = Action.DISMISS if resolution == Resolution.DISMISSED else Action.RESOLVE
    label = str(Resolution(resolution).label)
    ModerationLog.objects.bulk_create(
        ModerationLog(
            actor=actor, action=action, target_user_id=m.author_id, room_id=m.room_id, message=m, reason=reason,
            details=ngettext("%(count)s report: %(resolution)s", "%(count)s reports: %(resolution)s", counts[m.pk])
            % {"count": counts[m.pk], "resolution": label},
        )
        for m in Message.objects.filter(pk__in=list(counts)).only("pk", "room_id", "author_id")
    )  # fmt: skip
    return sum(counts.values())


# The report queue's actions: what each is called, the permission it needs, and how it resolves the reports.
QUEUE_ACTIONS = {
    "remove": (_("Remove message"), "rooms.delete_message", Resolution.REMOVED),
    "remove_all": (_("Remove all by author in this room"), "rooms.delete_message", Resolution.REMOVED_ALL),
    "mute": (_("Mute author in this room for 24 h"), "rooms.add_mute", Resolution.MUTED),
    "ban": (_("Ban author"), "moderation.add_ban", Resolution.BANNED),
    "dismiss": (_("Dismiss"), "moderation.change_report", Resolution.DISMISSED),
}


def act_on_reports(
    actor: AbstractBaseUser,
    reports: Iterable[Report],
    action: str,
    note: str = "",
    ban_until: dt.datetime | None = None,
) -> int:
    """One of the report queue's actions, once per reported message (or per author, or author and room), all in
    one transaction; every open report about those messages is resolved. Returns how many messages."""
    _, permission, resolution = QUEUE_ACTIONS[action]
    _require(actor, "moderation.change_report")
    _require(actor, permission)
    messages = {r.message_id: r.message for r in reports}
    by_author_and_room = {(m.author_id, m.room_id): m for m in messages.values()}.values()
    with transaction.atomic():
        if action == "remove":
            remove_messages(actor, Message.objects.filter(pk__in=messages), note)
        elif action == "remove_all":
            for m in by_author_and_room:
                remove_all_by(actor, m.author, m.room, note)
        elif action == "mute":
            until = timezone.now() + REPORT_MUTE
            for m in by_author_and_room:
                mute(actor, m.room, m.author, until, note)
        elif action == "ban":
            for m in {m.author_id: m for m in messages.values()}.values():
                if active_ban(m.author) is None:
                    ban(actor, m.author, note, ban_until)
        # Whatever the action itself did not resolve (a message its author had removed, a dismissal).
        _resolve(actor, list(messages), resolution, note)
    return len(messages)


def report_context(report: Report) -> list[Message]:
    """The reported message with a few before and after it, oldest first (removed ones included, marked)."""
    message = report.message
    # Not what authors took back themselves: that is no longer theirs to share (the reported one stays).
    nearby = (
        Message.objects.filter(room_id=message.room_id)
        .exclude(deleted_at__isnull=False, deleted_by=F("author"))
        .select_related("author")
    )
    before = list(nearby.filter(seq__lt=message.seq).order_by("-seq")[:CONTEXT])
    after = list(nearby.filter(seq__gt=message.seq).order_by("seq")[:CONTEXT])
    return [*reversed(before), message, *after]
