from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from .consumers import CLOSE_NOT_FOUND, ChatConsumer


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other socket path: a final "not found" instead of URLRouter's error (an HTTP 500 and a traceback)."""

    async def connect(self) -> None:
        await self.accept()  # then close: a refusal before accept looks like 1006, which the browser retries
        await self.close(code=CLOSE_NOT_FOUND)


websocket_urlpatterns = [
    path("ws/", ChatConsumer.as_asgi()),
    path("ws/rooms/<int:room_id>/", ChatConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
