import io
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier  # noqa: E402
from django.core.handlers.asgi import ASGIRequest  # noqa: E402
from django.middleware.csrf import CsrfViewMiddleware  # noqa: E402

from realtime.auth import SocketAuthMiddlewareStack  # noqa: E402
from rooms.routing import websocket_urlpatterns  # noqa: E402


class CsrfOriginValidator:
    """Accepts a socket exactly when Django's CSRF check would accept a form posted from its Origin: the same
    scheme, host and port as the request's own (Host header, within ALLOWED_HOSTS; wss counts as https), or
    one of CSRF_TRUSTED_ORIGINS. Channels' AllowedHostsOriginValidator compares host names only, so a page on
    another port or over plain HTTP could open a socket that the site's forms would refuse."""

    def __init__(self, application) -> None:
        self.application = application
        # In-process test communicators send an Origin but no Host and no server address, so there is no
        # request origin to compare with: for them, channels' host-name rule. Every ASGI server sets both.
        self.without_host = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        if b"host" not in headers and not scope.get("server"):
            return await self.without_host(scope, receive, send)
        if b"origin" in headers and self.origin_verified(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    @staticmethod
    def origin_verified(scope) -> bool:
        # The handshake as the HTTP request it is, checked by Django's own CSRF origin rule (is_secure() also
        # honours SECURE_PROXY_SSL_HEADER); the middleware is built per call so it reads the current settings.
        http_scope = {
            **scope,
            "type": "http",
            "method": "GET",
            "scheme": "https" if scope.get("scheme") == "wss" else "http",
        }
        request = ASGIRequest(http_scope, io.BytesIO())
        return CsrfViewMiddleware(lambda request: None)._origin_verified(request)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": CsrfOriginValidator(SocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
