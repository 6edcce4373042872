from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The real-time layer shows what the chat renders: the connection bar and who is online.
        from realtime import hooks

        from . import frames

        hooks.outage_frame = frames.outage_frame
        hooks.presence_frame = frames.presence_frame
