from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    """Moderation acts on the chat (rooms/) through its services and signals; the chat never calls it."""

    name = "moderation"
    verbose_name = _("Moderation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects the chat's signals)
        from .protocol import register

        register()

        # The banned hear of nothing while the ban lasts: no notification, push or email with what was said.
        from rooms.notify import decide

        from .models import Ban

        def banned(user_ids: set[int]) -> set[int]:
            return set(Ban.objects.active().filter(user_id__in=user_ids).values_list("user_id", flat=True))

        decide.barred = banned
