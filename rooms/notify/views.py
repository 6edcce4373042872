"""The notifications settings page and its devices, the away email's unsubscribe link, and what makes Roomcast
an installable app: the service worker (served from the site's root, so it controls every page), the web app
manifest and the offline page."""

from __future__ import annotations

import json
import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, gettext, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .. import naming, services
from ..models import Membership, NotificationSettings, PushSubscription, Room
from . import away, decide, push

DEVICES = 20  # subscriptions a person keeps; a new one past it replaces their oldest
TEST_INTERVAL = 10  # seconds between one person's test notifications
KEY = re.compile(r"^[A-Za-z0-9_-]+=*$")  # base64url, as PushSubscription.toJSON() gives the keys
BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
SYSTEMS = [("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]  # fmt: skip


class NotificationForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = ["keywords", "sound", "email_after"]
        widgets = {"keywords": forms.Textarea(attrs={"rows": 3}), "email_after": forms.NumberInput(attrs={"max": 1440})}

    def clean_keywords(self) -> str:
        words = decide.keywords(self.cleaned_data["keywords"])
        return "\n".join(words)

    def clean_email_after(self) -> int:
        minutes = self.cleaned_data["email_after"]
        if minutes > 1440:
            raise forms.ValidationError(gettext("At most 1440 minutes (a day)."))
        return minutes


def _levels(user) -> list[dict]:
    """The person's rooms and conversations with how much of each reaches them, rooms first, by name."""
    people = Membership.objects.select_related("user", *(f"user__{r}" for r in naming.load_with_user))
    rows = (
        Membership.objects.filter(user=user, room__archived_at__isnull=True)
        .select_related("room")
        .prefetch_related(Prefetch("room__memberships", queryset=people.filter(room__kind__in=Room.CONVERSATIONS)))
        .order_by("room__name", "room_id")
    )
    rooms, conversations = [], []
    for membership in rows:
        room = membership.room
        if room.kind in Room.CONVERSATIONS:
            if room.last_message_at is not None:  # one nobody wrote in yet is not in the sidebar either
                name = services.group_name([m.user for m in room.memberships.all()], user.pk)
                conversations.append({"room": room, "level": membership.involvement, "name": name})
        else:
            rooms.append({"room": room, "level": membership.involvement, "name": f"#{room.name}"})
    return rooms + conversations


@never_cache
@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    prefs = NotificationSettings.objects.filter(user=request.user).first() or NotificationSettings(user=request.user)
    form = NotificationForm(request.POST or None, instance=prefs)
    levels = _levels(request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        for entry in levels:
            level = request.POST.get(f"level-{entry['room'].pk}")
            if level and level != entry["level"]:
                try:
                    services.set_involvement(request.user, entry["room"].pk, level)
                except services.ChatError as error:
                    messages.error(request, str(error))
        messages.success(request, gettext("Your notification settings are saved."))
        return redirect("rooms:notifications")
    context = {
        "form": form,
        "levels": levels,
        "choices": Membership.Involvement.choices,
        "devices": PushSubscription.objects.filter(user=request.user).order_by("-created_at"),
        "push_ready": push.configured(),
        "vapid_key": settings.VAPID_PUBLIC_KEY,
        "has_email": bool(request.user.email),
    }
    return render(request, "notifications/settings.html", context, status=400 if form.errors else 200)


def _device_name(user_agent: str) -> str:
    browser = next((name for marker, name in BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "")
    if browser and system:
        return pgettext("a device", "%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or gettext("A browser")


@require_POST
@login_required
def subscribe(request: HttpRequest) -> JsonResponse:
    """This browser's push subscription (PushSubscription.toJSON(), as JSON), from the page's "turn on"."""
    try:
        data = json.loads(request.body)
        endpoint, keys = data["endpoint"], data["keys"]
        p256dh, auth = keys["p256dh"], keys["auth"]
        valid = all(isinstance(v, str) for v in (endpoint, p256dh, auth))
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid or not (KEY.match(p256dh) and 80 <= len(p256dh) <= 100 and KEY.match(auth) and len(auth) <= 50):
        return JsonResponse({"error": gettext("This browser's subscription could not be read.")}, status=400)
    if len(endpoint) > 1000 or not push.accepted_endpoint(endpoint):
        return JsonResponse({"error": gettext("This browser's push service is not one Roomcast sends to.")}, status=400)
    device = _device_name(request.headers.get("User-Agent", ""))
    session = request.session.session_key or ""
    subscription = push.save_subscription(request.user, endpoint, p256dh, auth, device, get_language(), session)
    extra = PushSubscription.objects.filter(user=request.user).order_by("-created_at").values_list("pk", flat=True)
    PushSubscription.objects.filter(pk__in=list(extra[DEVICES:])).delete()
    return JsonResponse({"id": subscription.pk, "device": device}, status=201)


@require_POST
@login_required
def forget_device(request: HttpRequest) -> HttpResponse:
    """A device taken off: by the settings page's button (its row), or by the browser unsubscribing itself."""
    if (device := services.parse_number(request.POST.get("device", ""))) is not None:
        push.remove_subscription(request.user, subscription_id=device)
        messages.success(request, gettext("That device gets no more notifications."))
        return redirect("rooms:notifications")
    push.remove_subscription(request.user, endpoint=request.POST.get("endpoint", ""))
    return HttpResponse(status=204)


@require_POST
@login_required
def send_test(request: HttpRequest) -> HttpResponse:
    count = PushSubscription.objects.filter(user=request.user).count()
    if not cache.add(f"notify:test:{request.user.pk}", 1, timeout=TEST_INTERVAL):
        messages.error(request, gettext("A test notification was just sent. Wait a few seconds before the next."))
    elif count and push.configured():
        push.send_test.enqueue(request.user.pk)
        messages.success(
            request, gettext("A test notification is on its way to your devices. Reload to see how it went.")
        )
    else:
        messages.error(request, gettext("No device of yours gets notifications yet: turn them on for this one first."))
    return redirect("rooms:notifications")


@csrf_exempt  # the signed link is the authority (a mail client's one-click unsubscribe has no session)
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The away email's link: a page with a button (a mail scanner's GET changes nothing); its POST (the button,
    or RFC 8058's one-click) turns the emails off."""
    user_id = away.unsubscribed_user(token)
    if user_id is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        NotificationSettings.objects.bulk_create([NotificationSettings(user_id=user_id)], ignore_conflicts=True)
        NotificationSettings.objects.filter(user_id=user_id).update(email_after=0)
    return render(request, "notifications/unsubscribe.html", {"done": done})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """static/sw.js from the root: a worker controls only pages under its own address."""
    context = {
        "offline_url": reverse("rooms:offline"),
        "style": static("roomcast.css"),
        "icon": static("icons/icon-192.png"),
    }
    response = render(request, "notifications/sw.js", context, content_type="text/javascript")
    response["Cache-Control"] = "no-cache"  # browsers check for a new worker; this keeps them from a stale one
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png", "purpose": purpose}
        for size, purpose in ((192, "any"), (512, "any"), (512, "maskable"))
    ]
    icons[-1]["src"] = static("icons/maskable-512.png")
    body = {
        "name": "Roomcast", "short_name": "Roomcast", "lang": get_language(), "start_url": reverse("rooms:index"),
        "scope": "/", "display": "standalone", "background_color": "#ffffff", "theme_color": "#2f4fd0",
        "description": gettext("Team chat: rooms, direct messages, notifications."), "icons": icons,
    }  # fmt: skip
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows when a page cannot be reached (it keeps a copy from when it installed)."""
    return render(request, "notifications/offline.html")
