from asgiref.sync import async_to_sync
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from realtime import presence

from . import services


def sidebar(request: HttpRequest) -> dict:
    # Lazy: only pages that draw the sidebar pay for its queries (admin pages do not).
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def build() -> dict:
        data = services.sidebar(user)
        directs = [d for d in data["directs"] if "other" in d]  # a group conversation has no one dot
        online = async_to_sync(presence.online_users)([d["other"].pk for d in directs])
        for d in directs:
            d["online"] = d["other"].pk in online
        return data

    return {"sidebar": SimpleLazyObject(build)}
