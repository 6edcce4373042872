"""The websocket adapter: authorize, parse a frame, call the service, forward pre-rendered frames."""

from __future__ import annotations

import json
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import realtime, services
from .models import Room

# A 4,000-character message is at most ~24 KB as escaped JSON; anything far beyond that is not a composer send.
MAX_FRAME_CHARS = 32_000
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


def parse_send(text_data: str | None) -> tuple[str, uuid.UUID]:
    """Turn a ws-send frame ({"body": ..., "client_id": ..., "HEADERS": {...}}) into arguments, or refuse it."""
    if text_data is None:
        raise services.ChatError("This socket only takes text frames.")
    if len(text_data) > MAX_FRAME_CHARS:
        raise services.ChatError(f"Message is too long (the limit is {services.Message.MAX_LENGTH:,} characters).")
    try:
        data = json.loads(text_data)
    except ValueError:
        raise services.ChatError("That message could not be read; please try again.") from None
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        raise services.ChatError("That message could not be read; please try again.")
    return data["body"], services.parse_client_id(data.get("client_id"))


class ChatConsumer(AsyncWebsocketConsumer):
    """One socket per page: the user's personal group always, plus the open room being viewed."""

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.room_id: int | None = self.scope["url_route"]["kwargs"].get("room_id")
        # Refusals accept first and close with 4xxx: a close before accept looks like 1006 to the browser,
        # which the ws extension would retry forever.
        await self.accept()
        if not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        room = await self._room()
        if self.room_id is not None and room is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.channel_layer.group_add(realtime.user_group(self.user.pk), self.channel_name)
        # Direct rooms are delivered through the two personal groups, so only open rooms have a group.
        if room is not None and not room.is_direct:
            await self.channel_layer.group_add(realtime.room_group(room.pk), self.channel_name)

    @database_sync_to_async
    def _room(self) -> Room | None:
        if self.room_id is None:
            return None
        return Room.objects.accessible_to(self.user).filter(pk=self.room_id).first()

    async def disconnect(self, code: int) -> None:
        if self.user.is_authenticated:
            await self.channel_layer.group_discard(realtime.user_group(self.user.pk), self.channel_name)
            if self.room_id is not None:
                await self.channel_layer.group_discard(realtime.room_group(self.room_id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        client_id = None
        try:
            body, client_id = parse_send(text_data)
            if self.room_id is None:
                raise services.ChatError("Open a room or a conversation to send messages.")
            await database_sync_to_async(services.post_message)(self.user, self.room_id, body, client_id)
        except services.ChatError as error:
            await self.send(text_data=services.render_status(str(error), client_id))
            return
        await self.send(text_data=services.render_status(client_id=client_id, ok=True))

    async def chat_frame(self, event: dict) -> None:
        await self.send(text_data=event["html"])

    async def chat_close(self, event: dict) -> None:
        await self.close(code=event["code"])
