from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rooms import naming

        from . import people, signals  # noqa: F401  (signals connects the deactivation hook)

        naming.shown_name = people.name  # who is typing, who is here: by display name
        naming.name_fields = ("username", "profile__display_name")
        naming.load_with_user = ("profile",)
