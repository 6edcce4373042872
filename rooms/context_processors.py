from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import services


def sidebar(request: HttpRequest) -> dict:
    # Lazy: only pages that draw the sidebar pay for its queries (admin pages do not).
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"sidebar": SimpleLazyObject(lambda: services.sidebar(user))}
