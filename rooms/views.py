import uuid

from asgiref.sync import async_to_sync
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

from . import access, services, shortcodes
from .errors import slow_down
from .forms import RoomForm
from .models import Message, Room

User = get_user_model()
ROOMS_PER_PAGE = 50
ROOM_SEARCH_MAX = Room._meta.get_field("name").max_length  # longer finds nothing


@login_required
def index(request: HttpRequest) -> HttpResponse:
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.clean_room_name(form.cleaned_data["name"])  # a name that is taken costs no turn
            async_to_sync(limits.check)(request.user.pk, "room")  # every room is a row in everyone's list
            room = services.create_room(request.user, form.cleaned_data["name"], form.cleaned_data["description"])
        except services.ChatError as error:
            form.add_error("name", str(error))
        except limits.SlowDown as error:
            form.add_error("name", slow_down("create_room", error.wait_ms))
        else:
            return redirect(room)
    search = request.GET.get("q", "")[:ROOM_SEARCH_MAX]
    page = Paginator(services.room_list(search), ROOMS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"rooms": page, "search": search, "form": form}
    return render(request, "rooms/index.html", context, status=400 if form.errors else 200)


@never_cache  # private conversations must not linger in a shared browser's or a proxy's cache
@login_required
def room(request: HttpRequest, slug: str) -> HttpResponse:
    """Shows the room; joining is a POST (the Join button, or the first message)."""
    room = get_object_or_404(Room, kind=Room.Kind.OPEN, slug=slug)
    placeholder = gettext("Message #%(room)s") % {"room": room.name}
    return _conversation(request, room, title=room.name, composer_placeholder=placeholder)


@require_POST
@login_required
def join(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room, kind=Room.Kind.OPEN, slug=slug)
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
    room = access.readable_room(request.user, message.room_id)
    if room is None:
        raise Http404
    if room.is_direct:
        other = services.other_member(room.memberships.select_related("user"), request.user.pk)
        if other is None:
            raise Http404
        url = reverse("rooms:direct", kwargs={"username": other.get_username()})
    else:
        url = room.get_absolute_url()
    return redirect(f"{url}?around={message.seq}#msg-{message.pk}")


@never_cache
@login_required
def people(request: HttpRequest) -> HttpResponse:
    users = list(User.objects.filter(is_active=True).exclude(pk=request.user.pk).order_by("username"))
    online = async_to_sync(presence.online_users)([u.pk for u in users])
    return render(request, "rooms/people.html", {"people": users, "online_ids": online})


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
    rooms = services.room_list(query)[:SWITCH_RESULTS] if query else []
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
