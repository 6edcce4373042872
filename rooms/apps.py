from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Rooms")  # admin's section for rooms, messages, memberships and mutes
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The real-time layer shows what the chat renders: the connection bar and who is online.
        from realtime import hooks

        from . import frames

        hooks.outage_frame = frames.outage_frame
        hooks.presence_frame = frames.presence_frame
        hooks.dots_frame = frames.online_dots

        from django.db.models.signals import post_delete

        from .models import Attachment
        from .services.files import forget_bytes

        post_delete.connect(forget_bytes, sender=Attachment, dispatch_uid="rooms.forget_bytes")

        from django.contrib.auth.signals import user_logged_out

        from .notify.push import forget_session_devices

        user_logged_out.connect(forget_session_devices, dispatch_uid="rooms.forget_session_devices")
