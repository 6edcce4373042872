"""Moderation's socket action: reporting a message from the page."""

from rooms import protocol
from rooms.consumers import db, reply_to

from . import services


async def report(consumer, data: dict) -> str:
    """Ask moderators to look at a message; the page shows the answer in its report form (by client id)."""
    await db(services.report_message)(consumer.user, data["message_id"], data["reason"])
    return reply_to(data, str(services.THANKS))


def register() -> None:
    protocol.register("report", protocol.Action(report, {"message_id": int, "reason": str}, bucket="write"))
