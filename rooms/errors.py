"""The one kind of refusal a person reads: a code for programs and tests, and a sentence for people."""

from __future__ import annotations


class ChatError(Exception):
    """A refusal the person should read, e.g. "Message is empty."; `code` names it for code and tests."""

    def __init__(self, text: str, code: str = "refused") -> None:
        super().__init__(text)
        self.code = code
