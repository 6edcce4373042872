from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The real-time layer shows what the chat renders: the connection bar and who is online.
        from realtime import hooks

        from . import services

        hooks.outage_frame = lambda down: services.render_partial("outage_frame", {"down": down})
        hooks.presence_frame = services.presence_frame
