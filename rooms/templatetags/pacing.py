"""What the page script must know of the server's settings: flood control's limits on writes, so a page
paces what it sends after a reconnect below them instead of having it refused (static/js/pending.js)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def send_pacing() -> dict[str, int]:
    """The write bucket (realtime/limits.py): `burst` sends at once, then one every `interval` ms; a burst of 0
    means no limit (SEND_BURST or SEND_RATE 0)."""
    if settings.SEND_BURST <= 0 or settings.SEND_RATE <= 0:
        return {"burst": 0, "interval": 0}
    return {"burst": settings.SEND_BURST, "interval": round(1000 / settings.SEND_RATE)}
