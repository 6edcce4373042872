import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from . import services
from .forms import RoomForm
from .models import Room

User = get_user_model()


@login_required
def index(request: HttpRequest) -> HttpResponse:
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = services.create_room(request.user, form.cleaned_data["name"], form.cleaned_data["description"])
        except services.ChatError as error:
            form.add_error("name", str(error))
        else:
            return redirect(room)
    status = 400 if form.errors else 200
    return render(request, "rooms/index.html", {"rooms": services.room_list(), "form": form}, status=status)


@login_required
def room(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room, kind=Room.Kind.OPEN, slug=slug)
    services.join(request.user, room)
    return _conversation(request, room, title=room.name, composer_placeholder=f"Message #{room.name}")


@login_required
def direct(request: HttpRequest, username: str) -> HttpResponse:
    other = get_object_or_404(User, username=username, is_active=True)
    try:
        room = services.direct_room(request.user, other)
    except services.ChatError:
        raise Http404("No conversation with yourself.") from None
    name = other.get_username()
    return _conversation(request, room, title=name, composer_placeholder=f"Message @{name}")


def _conversation(request: HttpRequest, room: Room, **context) -> HttpResponse:
    # The composer's first client id; the page makes a fresh one after every send.
    context |= {"room": room, "history": services.recent_messages(room), "client_id": uuid.uuid4()}
    return render(request, "rooms/room.html", context)


@login_required
def people(request: HttpRequest) -> HttpResponse:
    users = User.objects.filter(is_active=True).exclude(pk=request.user.pk).order_by("username")
    return render(request, "rooms/people.html", {"people": users})
