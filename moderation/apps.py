from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Moderation acts on the chat (rooms/) through its services and signals; the chat never calls it."""

    name = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects the chat's signals)
        from .protocol import register

        register()
