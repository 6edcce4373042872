"""Email when away: a mention or direct message still unread some minutes later (the person's setting, 10 by
default) sends one email with everything waiting by then, never one per message, and none at all if it was
read meanwhile. Each email has an unsubscribe link that needs no sign-in (RFC 8058's one-click too)."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from itertools import groupby

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from .. import access, naming
from ..models import Membership, Mention, Message, NotificationSettings, PushSubscription, Room
from . import content, decide

log = logging.getLogger(__name__)

MOST = 50  # messages listed in one email; the rest are a count and a link
LOOKBACK = dt.timedelta(days=1)  # the first email tells of one day at most, not of every unread mention ever
STALE = dt.timedelta(hours=1)  # a scheduled email this late (its task lost) no longer stops the next one
UNSUBSCRIBE_SALT = "roomcast.notify.unsubscribe"


def _not_due(now: dt.datetime) -> Q:
    return Q(email_due_at__isnull=True) | Q(email_due_at__lt=now - STALE)


def schedule(user_ids: set[int], *, after: dt.datetime | None = None) -> None:
    """An email for each of these people, their delay after `after` (now), unless one is already on its way."""
    if not user_ids:
        return
    NotificationSettings.objects.bulk_create([NotificationSettings(user_id=u) for u in user_ids], ignore_conflicts=True)
    now = timezone.now()
    due = NotificationSettings.objects.filter(_not_due(now), user_id__in=user_ids, email_after__gt=0)
    for user_id, minutes in due.exclude(user__email="").values_list("user_id", "email_after"):
        when = (after or now) + dt.timedelta(minutes=minutes)
        # Only the update that sets it schedules the email (another pass may be doing the same now).
        if NotificationSettings.objects.filter(_not_due(now), user_id=user_id).update(email_due_at=when):
            send_away_email.using(run_after=when).enqueue(user_id)


def waiting(user, since: dt.datetime, until: dt.datetime | None = None) -> QuerySet[Message]:
    """What waits for the person, said after `since` (and until `until`): direct and group messages and mentions
    (keywords included), unread, in rooms they may read and have not muted, by room, oldest first."""
    read = Membership.objects.filter(room=OuterRef("room_id"), user=user, last_read_seq__gte=OuterRef("seq"))
    muted = Membership.objects.filter(room=OuterRef("room_id"), user=user, involvement=Membership.Involvement.NOTHING)
    # Along the person's own rows (their conversations, their mentions), not across every message.
    conversations = Membership.objects.filter(user=user, room__kind__in=Room.CONVERSATIONS).values("room_id")
    mentioned = Mention.objects.filter(user=user).values("message_id")
    messages = Message.objects.filter(
        Q(room_id__in=conversations) | Q(pk__in=mentioned), created_at__gt=since, deleted_at__isnull=True
    )
    if until is not None:
        messages = messages.filter(created_at__lte=until)
    return (
        messages.exclude(author=user)
        .filter(~Exists(read), ~Exists(muted), room__in=Room.objects.filter(access.readable(user)))
        .select_related("room", "author", *(f"author__{r}" for r in naming.load_with_user))
        .prefetch_related("attachments")
        .order_by("room_id", "created_at")
    )


def address(user) -> str | None:
    """Where the person's emails go: their primary address, once verified (where the site verifies them)."""
    if settings.ACCOUNT_EMAIL_VERIFICATION == "none":
        return user.email or None
    verified = EmailAddress.objects.filter(user=user, primary=True, verified=True)
    return verified.values_list("email", flat=True).first()


@task()
def send_away_email(user_id: int) -> None:
    """What has waited unread for the person's delay, in one email; what came since is the next one's."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    now = timezone.now()
    with transaction.atomic():
        prefs = NotificationSettings.objects.select_for_update().filter(user_id=user_id).first()
        if prefs is None:
            return
        prefs.email_due_at = None  # from now on, a new alert schedules the next email
        prefs.save(update_fields=["email_due_at"])
        if user is None or not prefs.email_after or decide.barred({user_id}) or not (to := address(user)):
            return
        cutoff = now - dt.timedelta(minutes=prefs.email_after)
        since = max(prefs.emailed_until or cutoff - LOOKBACK, cutoff - LOOKBACK)
        found = list(waiting(user, since, cutoff))
        # Alerts that came while this one was due scheduled nothing: their email is the next one.
        if (later := waiting(user, cutoff).order_by("created_at").first()) is not None:
            transaction.on_commit(lambda: schedule({user_id}, after=later.created_at))
    if not found:
        return
    try:
        _send(user, to, found)
    except Exception:  # the mail server: what it did not take is told by the next email
        log.exception("notifications: the away email to user %s was not sent", user_id)
        return
    NotificationSettings.objects.filter(user_id=user_id).update(emailed_until=max(m.created_at for m in found))


def _language(user) -> str:
    """The person's chosen language, else the one their newest device speaks, else the site's."""
    profile = getattr(user, "profile", None)
    if profile is not None and profile.language:
        return profile.language
    device = PushSubscription.objects.filter(user=user).order_by("-created_at").first()
    return device.language if device else settings.LANGUAGE_CODE


def unsubscribe_token(user_id: int) -> str:
    return signing.dumps(user_id, salt=UNSUBSCRIBE_SALT)


def unsubscribed_user(token: str) -> int | None:
    try:
        return signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None


def _send(user, to: str, messages: list[Message]) -> None:
    site = settings.SITE_URL.rstrip("/")
    unsubscribe = site + reverse("rooms:unsubscribe", args=[unsubscribe_token(user.pk)])
    with translation.override(_language(user)), timezone.override(_zone(user)):
        shown = messages[:MOST]
        rooms = [
            {"room": room, "name": _room_name(room, user), "messages": [(m, content.excerpt(m)) for m in group]}
            for room, group in groupby(shown, key=lambda m: m.room)
        ]
        context = {
            "user": user, "name": naming.shown_name(user), "rooms": rooms, "count": len(messages),
            "more": len(messages) - len(shown), "site": site, "unsubscribe": unsubscribe,
            "settings_url": site + reverse("rooms:notifications"),
        }  # fmt: skip
        subject = ngettext(
            "%(count)s message is waiting for you in Roomcast",
            "%(count)s messages are waiting for you in Roomcast",
            len(messages),
        ) % {"count": len(messages)}
        email = EmailMultiAlternatives(
            subject,
            render_to_string("notifications/away_email.txt", context),
            to=[to],
            headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
        email.attach_alternative(render_to_string("notifications/away_email.html", context), "text/html")
    email.send()


def _zone(user) -> dt.tzinfo:
    profile = getattr(user, "profile", None)
    try:
        return zoneinfo.ZoneInfo(profile.time_zone) if profile and profile.time_zone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _room_name(room: Room, user) -> str:
    if room.kind in Room.CONVERSATIONS:
        # Imported here: the services package imports the send path, which imports this module.
        from ..services.conversations import group_name

        people = get_user_model().objects.filter(memberships__room=room)
        return group_name(people, user.pk)
    return f"#{room.name}"
