import uuid

from asgiref.sync import async_to_sync
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from realtime import limits, presence

from . import access, naming, services, shortcodes
from .errors import slow_down
from .forms import RoomForm, RoomSettingsForm
from .models import Attachment, Membership, Message, Room

User = get_user_model()
ROOMS_PER_PAGE = 50
ROOM_SEARCH_MAX = Room._meta.get_field("name").max_length  # longer finds nothing


@login_required
def index(request: HttpRequest) -> HttpResponse:
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.clean_room_name(form.cleaned_data["name"], private=form.cleaned_data["private"])  # no turn spent
            async_to_sync(limits.check)(request.user.pk, "room")  # every room is a row in everyone's list
            data = form.cleaned_data
            room = services.create_room(request.user, data["name"], data["description"], private=data["private"])
        except services.ChatError as error:
            form.add_error("name", str(error))
        except limits.SlowDown as error:
            form.add_error("name", slow_down("create_room", error.wait_ms))
        else:
            return redirect(room)
    search = request.GET.get("q", "")[:ROOM_SEARCH_MAX]
    page = Paginator(services.room_list(request.user, search), ROOMS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"rooms": page, "search": search, "form": form}
    return render(request, "rooms/index.html", context, status=400 if form.errors else 200)


@never_cache  # private conversations must not linger in a shared browser's or a proxy's cache
@login_required
def room(request: HttpRequest, slug: str) -> HttpResponse:
    """Shows the room; joining an open one is a POST (the Join button, or the first message). A private room
    is not there for anyone but its members."""
    room = get_object_or_404(Room.objects.filter(access.readable(request.user)), kind__in=Room.ROOMS, slug=slug)
    placeholder = gettext("Message #%(room)s") % {"room": room.name}
    return _conversation(request, room, title=room.name, composer_placeholder=placeholder)


@never_cache
@login_required
def group(request: HttpRequest, room_id: int) -> HttpResponse:
    """A group conversation, for its people only."""
    room = get_object_or_404(Room.objects.filter(access.readable(request.user)), kind=Room.Kind.GROUP, pk=room_id)
    title = services.group_name(services.members(room)[0], request.user.pk)
    placeholder = gettext("Message %(people)s") % {"people": title}
    return _conversation(request, room, title=title, composer_placeholder=placeholder)


@require_POST
@login_required
def start_group(request: HttpRequest) -> HttpResponse:
    """The people list's "Start a group conversation": the conversation of exactly those people."""
    ids = [n for v in request.POST.getlist("people") if (n := services.parse_number(v)) is not None]
    try:
        room = services.group_room(request.user, ids)
    except services.ChatError as error:
        return people(request, error=str(error), chosen=ids)
    return redirect(room)


def _member_room(request: HttpRequest, room_id: int) -> Room:
    """A room the person can read (else 404: a private room is not there for others)."""
    room = access.readable_room(request.user, room_id)
    if room is None:
        raise Http404
    return room


def _back_to(room: Room) -> HttpResponse:
    return redirect(room.get_absolute_url() if room.is_room or room.kind == Room.Kind.GROUP else "rooms:index")


@require_POST
@login_required
def leave(request: HttpRequest, room_id: int) -> HttpResponse:
    room = _member_room(request, room_id)
    try:
        services.leave(request.user, room)
    except services.ChatError as error:
        messages.error(request, str(error))
        return _back_to(room)
    messages.success(request, gettext("You left #%(room)s.") % {"room": room.name})
    return redirect("rooms:index")


@require_POST
@login_required
def invite(request: HttpRequest, room_id: int) -> HttpResponse:
    room = _member_room(request, room_id)
    try:
        invitee = services.invite(request.user, room, request.POST.get("username", "")[:150])
    except services.ChatError as error:
        messages.error(request, str(error))
    else:
        name = naming.shown_name(invitee)
        messages.success(request, gettext("%(name)s is now in #%(room)s.") % {"name": name, "room": room.name})
    return _back_to(room)


@require_POST
@login_required
def remove_member(request: HttpRequest, room_id: int, user_id: int) -> HttpResponse:
    room = _member_room(request, room_id)
    try:
        services.remove_member(request.user, room, user_id)
    except services.ChatError as error:
        messages.error(request, str(error))
    else:
        name = naming.shown_name(User.objects.get(pk=user_id))
        messages.success(request, gettext("%(name)s is no longer in #%(room)s.") % {"name": name, "room": room.name})
    return _back_to(room)


@require_POST
@login_required
def involvement(request: HttpRequest, room_id: int) -> HttpResponse:
    room = _member_room(request, room_id)
    try:
        services.set_involvement(request.user, room.pk, request.POST.get("level", ""))
    except services.ChatError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, gettext("Saved: this is how much of it reaches you now."))
    return redirect(_address(request, room))


@never_cache
@login_required
def room_settings(request: HttpRequest, room_id: int) -> HttpResponse:
    """Name, topic, description (the creator or a moderator), private or open (moderators), archive."""
    room = _member_room(request, room_id)
    if not services.may_manage(request.user, room):
        raise Http404
    moderator = access.is_moderator(request.user)
    form = RoomSettingsForm(request.POST or None, initial={
        "name": room.name, "topic": room.topic, "description": room.description, "private": room.is_private,
    }, moderator=moderator)  # fmt: skip
    if request.method == "POST":
        try:
            if "archive" in request.POST or "unarchive" in request.POST:
                services.set_archived(request.user, room, "archive" in request.POST)
                return redirect(room)
            if form.is_valid():
                data = form.cleaned_data
                private = data["private"] if moderator else None
                room = services.update_settings(
                    request.user, room, data["name"], data["topic"], data["description"], private
                )
                messages.success(request, gettext("Room settings saved."))
                return redirect(room)
        except services.ChatError as error:
            form.add_error(None, str(error))
    context = {"room": room, "form": form, "title": gettext("Room settings")}
    return render(request, "rooms/settings.html", context, status=400 if form.errors else 200)


def _address(request: HttpRequest, room: Room) -> str:
    """Where a room is, for this person: a direct conversation's address is the other person's name."""
    if room.is_direct:
        other = services.other_member(room.memberships.select_related("user"), request.user.pk)
        if other is None:
            raise Http404
        return reverse("rooms:direct", kwargs={"username": other.get_username()})
    return room.get_absolute_url()


@require_POST
@login_required
def join(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room.objects.listed(), slug=slug)  # only open rooms are joined at will
    services.join(request.user, room)
    return redirect(room)


@never_cache
@login_required
def direct(request: HttpRequest, username: str) -> HttpResponse:
    """The conversation with someone; before its first message, a page to write it (a POST starts it)."""
    other = get_object_or_404(User, username=username)
    if other.pk == request.user.pk:
        raise Http404("No conversation with yourself.")
    room = services.existing_direct_room(request.user, other)
    name = other.get_username()
    placeholder = gettext("Message @%(name)s") % {"name": name}
    if room is not None:
        return _conversation(request, room, title=name, composer_placeholder=placeholder)
    if not other.is_active:
        raise Http404("No conversation with this person.")
    context = {
        "other": other, "title": name, "placeholder": placeholder, "client_id": uuid.uuid4(),
        "max_length": Message.MAX_LENGTH,
    }  # fmt: skip
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            client_id = services.parse_client_id(request.POST.get("client_id"))
            services.start_direct(request.user, other, body, client_id)
        except services.ChatError as error:
            context |= {"error": str(error), "body": body}  # what they wrote stays in the box
            return render(request, "rooms/new_direct.html", context, status=400)
        return redirect("rooms:direct", username=name)
    return render(request, "rooms/new_direct.html", context)


def _conversation(request: HttpRequest, room: Room, **context) -> HttpResponse:
    membership = services.visit(request.user, room)
    # The page's catch-up cursor is read before the messages, so nothing committed in between is missed.
    cursor = room.last_seq
    has_newer = False
    if (around := services.parse_number(request.GET.get("around", ""))) is not None:
        history, has_more, has_newer = services.around(room, around)
    else:
        history, has_more = services.history(room)
    # "New messages" goes above the first message by someone else that this person has not read yet.
    divider_seq = next(
        (m.seq for m in history if m.seq > membership.last_read_seq and m.author_id != request.user.pk), None
    )
    people, member_count = services.members(room)
    online_ids = async_to_sync(presence.online_users)([p.pk for p in people])
    context |= {
        "room": room,
        "member": membership.pk is not None,
        "involvement": membership.involvement,
        "involvement_choices": Membership.Involvement.choices,
        "may_manage": services.may_manage(request.user, room),
        "may_invite": services.may_invite(request.user, room, member=membership.pk is not None),
        "history": history,
        "has_more": has_more,
        "has_newer": has_newer,
        "divider_seq": divider_seq,
        "cursor": cursor,
        "online": async_to_sync(presence.online_in_room)(room.pk),
        # Who is online at all (any page open), apart from who has this room open (`online`).
        "members": [{"person": p, "online": p.pk in online_ids} for p in people],
        "member_count": member_count,
        # The composer's first client id; the page makes a fresh one after every send.
        "client_id": uuid.uuid4(),
        "max_length": Message.MAX_LENGTH,
        "max_upload": services.files.limit_bytes(),
        "max_files": Attachment.MAX_PER_MESSAGE,
    }
    return render(request, "rooms/room.html", context)


@never_cache
@login_required
def history(request: HttpRequest, room_id: int) -> HttpResponse:
    """A page of older (?before=seq) or newer (?after=seq) messages; htmx swaps it in place of its loader."""
    room = access.readable_room(request.user, room_id)
    before, after = (services.parse_number(request.GET.get(side, "")) for side in ("before", "after"))
    if room is None or (before is None) == (after is None):
        raise Http404
    context = {"room": room, "has_more": False, "has_newer": False}
    if before is not None:
        context["history"], context["has_more"] = services.history(room, before_seq=before)
    else:
        context["history"], context["has_newer"] = services.newer(room, after_seq=after)
    return render(request, "rooms/partials.html#history_page", context)


@never_cache
@login_required
def source(request: HttpRequest, message_id: int) -> JsonResponse:
    """My message as I wrote it (Markdown), for the edit form: the page only has it rendered."""
    try:
        return JsonResponse({"body": services.source_of(request.user, message_id)})
    except services.ChatError:
        raise Http404 from None


@login_required
def link_image(request: HttpRequest, preview_id: int) -> HttpResponse:
    """A link card's picture, as Roomcast wrote it (a WebP), so readers' browsers never contact the linked site;
    only for people who may read the message's room. A new card is a new address: browsers keep each one."""
    image = services.link_image(request.user, preview_id)
    if image is None:
        raise Http404
    response = HttpResponse(image, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=31536000, immutable"  # private: it is behind a login
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = 'inline; filename="preview.webp"'
    return response


@never_cache
@login_required
def permalink(request: HttpRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(Message.objects.visible().select_related("room"), pk=message_id)
    room = _member_room(request, message.room_id)
    return redirect(f"{_address(request, room)}?around={message.seq}#msg-{message.pk}")


@never_cache
@login_required
def people(request: HttpRequest, error: str = "", chosen: list[int] | None = None) -> HttpResponse:
    """Everyone, to message one person or start a group conversation with several. `?with=<group>` (its "Add
    someone") starts with that conversation's people chosen, for a new, larger one."""
    users = list(
        User.objects.filter(is_active=True).exclude(pk=request.user.pk).select_related("profile").order_by("username")
    )
    online = async_to_sync(presence.online_users)([u.pk for u in users])
    if chosen is None and (group_id := services.parse_number(request.GET.get("with", ""))) is not None:
        group = access.readable_room(request.user, group_id)  # only a conversation of one's own
        is_group = group is not None and group.kind == Room.Kind.GROUP
        chosen = [person.pk for person in services.members(group)[0]] if is_group else []
    low, high = Room.GROUP_SIZE
    context = {
        "people": users, "online_ids": online, "chosen": set(chosen or []), "error": error,
        "fewest": low - 1, "most": high - 1,
    }  # fmt: skip
    return render(request, "rooms/people.html", context, status=400 if error else 200)


@require_POST
@login_required
def read_all(request: HttpRequest) -> HttpResponse:
    """The sidebar's Mark all read: every count to zero, on every tab; then back where the person was."""
    services.mark_all_read(request.user)
    back = request.POST.get("next", "")
    return redirect(back if url_has_allowed_host_and_scheme(back, {request.get_host()}) else "rooms:index")


@login_required
def emoji(request: HttpRequest) -> JsonResponse:
    """The composer's suggestions after ":" (static/js/suggest.js): emoji by shortcode or name, in the page's
    language."""
    found = shortcodes.suggest(request.GET.get("q", "")[:40], translation.get_language())
    return JsonResponse({"suggestions": [{"insert": e.char, "label": f"{e.char} {e.code}"} for e in found]})


@login_required
def mentionable(request: HttpRequest, room_id: int) -> JsonResponse:
    """The composer's suggestions after "@": the room's people by username or name."""
    room = access.readable_room(request.user, room_id)
    if room is None:
        raise Http404
    found = services.suggest_mentions(request.user, room, request.GET.get("q", "")[:40])
    suggestions = [{"insert": f"@{username}", "label": f"{name} @{username}"} for username, name in found]
    return JsonResponse({"suggestions": suggestions})


@never_cache
@login_required
def mentions(request: HttpRequest) -> HttpResponse:
    """The messages that mention me, newest first, each with its permalink."""
    before = services.parse_number(request.GET.get("before", ""))
    found, has_more = services.mentions_of(request.user, before)
    context = {"mentions": found, "has_more": has_more, "title": gettext("Mentions")}
    return render(request, "rooms/mentions.html", context)


SWITCH_RESULTS = 8  # rooms, and as many people, the quick switcher lists for what was typed


@login_required
def switch(request: HttpRequest) -> HttpResponse:
    """The quick switcher's list (Ctrl/Cmd+K): rooms whose name and people whose name contain what was typed;
    with nothing typed, the person's own rooms. An htmx fragment; without JS, the same list as a page."""
    query = " ".join(request.GET.get("q", "").split())[:ROOM_SEARCH_MAX]
    rooms = services.room_list(request.user, query)[:SWITCH_RESULTS] if query else []
    found = (
        User.objects.filter(is_active=True)
        .filter(Q(username__icontains=query) | Q(profile__display_name__icontains=query))
        .exclude(pk=request.user.pk)
        .select_related("profile")
        .order_by("username")[:SWITCH_RESULTS]
        if query
        else []
    )
    template = "rooms/switcher.html#results" if request.htmx else "rooms/switcher.html"
    return render(request, template, {"query": query, "rooms": rooms, "found": found})


SEARCH_MAX = 200  # characters of a query


@never_cache
@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Messages, people and rooms the person may see that match the header's search box (GET q); a query with a
    mistake says what it is, and stays in the box to fix."""
    text = request.GET.get("q", "")[:SEARCH_MAX]
    context = {"search_text": text}
    try:
        context["results"] = services.search(request.user, text, request.GET.get("page"))
    except services.QueryError as error:
        return render(request, "rooms/search.html", context | {"error": str(error)}, status=400)
    return render(request, "rooms/search.html", context)
