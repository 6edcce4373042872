"""The refusals a person reads: ChatError (a code for programs and tests, and a sentence for people), and flood
control's, worded per action."""

from __future__ import annotations

import math

from django.utils.translation import gettext


class ChatError(Exception):
    """A refusal the person should read, e.g. "Message is empty."; `code` names it for code and tests."""

    def __init__(self, text: str, code: str = "refused") -> None:
        super().__init__(text)
        self.code = code


def slow_down(action: str, wait_ms: int) -> str:
    """Flood control's refusal (realtime.limits.SlowDown), worded for what the person tried, in their language
    (the one active while their frame or request is handled)."""
    seconds = max(1, math.ceil(wait_ms / 1000))
    if action == "send":
        text = gettext("You're sending messages too fast. This one goes out by itself in %(seconds)s s.")
    elif action == "edit":
        text = gettext(
            "You're sending messages too fast. Wait %(seconds)s s, then send again; your message is still in the box."
        )
    elif action == "catch_up":
        text = gettext("Too many requests to catch up. Wait %(seconds)s s, then reload the page.")
    elif action == "create_room":
        minutes = max(1, math.ceil(seconds / 60))
        return gettext("You have created many rooms in a short time. Wait %(minutes)s min, then try again.") % {
            "minutes": minutes
        }
    else:
        text = gettext("You're doing that too fast. Wait %(seconds)s s, then try again.")
    return text % {"seconds": seconds}
