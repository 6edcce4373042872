"""The socket's authentication stack: channels' AuthMiddlewareStack without its session-saving send wrapper."""

from __future__ import annotations

from importlib import import_module

from channels.auth import AuthMiddleware
from channels.middleware import BaseMiddleware
from channels.sessions import CookieMiddleware
from django.conf import settings


class SocketSessionMiddleware(BaseMiddleware):
    """Puts the login session named by the cookie in scope["session"], as channels' SessionMiddleware does.

    That one also wraps `send` to save a changed session on HTTP responses. A socket never changes its session
    and sends no HTTP response, but the wrapper's checks ran on every frame to every recipient: a third of
    the cost of writing a frame in the fan-out benchmark."""

    async def __call__(self, scope, receive, send):
        key = scope["cookies"].get(settings.SESSION_COOKIE_NAME)
        session = import_module(settings.SESSION_ENGINE).SessionStore(key)
        return await super().__call__(dict(scope, session=session), receive, send)


def SocketAuthMiddlewareStack(inner):  # named like channels' AuthMiddlewareStack, which it replaces
    return CookieMiddleware(SocketSessionMiddleware(AuthMiddleware(inner)))
