"""The Moderators group: staff in it moderate in admin without being superusers.

Exactly what moderation needs, and why:
- rooms.view_message, rooms.delete_message: read open rooms in admin and remove messages (delete hides them;
  delete_message is also what the chat page checks: the one definition of a moderator, moderation.is_moderator)
- rooms.view_room, rooms.change_room: lock and unlock rooms (for non-superusers only the "locked" field is
  editable, see RoomAdmin)
- rooms.view_ban, rooms.add_ban, rooms.change_ban: ban, and lift a ban (a change)
- rooms.view_mute, rooms.add_mute, rooms.change_mute, rooms.delete_mute: mute, change a mute's end, unmute
- rooms.view_report, rooms.change_report: the report queue and acting on it
- rooms.view_moderationlog: the audit trail (read-only for everyone)
- auth.view_user: pick the person to ban or mute (admin's autocomplete needs it); no account changes
Not granted: writing or adding messages (they are written in chat), deleting rooms, reports or log entries
(the record), editing accounts.
"""

from django.db import migrations

GROUP = "Moderators"
PERMISSIONS = [
    ("rooms", "view_message"),
    ("rooms", "delete_message"),
    ("rooms", "view_room"),
    ("rooms", "change_room"),
    ("rooms", "view_ban"),
    ("rooms", "add_ban"),
    ("rooms", "change_ban"),
    ("rooms", "view_mute"),
    ("rooms", "add_mute"),
    ("rooms", "change_mute"),
    ("rooms", "delete_mute"),
    ("rooms", "view_report"),
    ("rooms", "change_report"),
    ("rooms", "view_moderationlog"),
    ("auth", "view_user"),
]


def create_moderators_group(apps, schema_editor) -> None:
    """Idempotent: tests call it again after a flush has emptied the tables."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate (post_migrate), too late for this migration on a fresh
    # database: create them now (create_permissions creates the content types too; it skips existing rows).
    for app_config in apps.get_app_configs():
        # (historical app configs have no models_module, which create_permissions requires)
        models_module, app_config.models_module = getattr(app_config, "models_module", None), True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in PERMISSIONS]
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(wanted)


def remove_moderators_group(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0003_moderation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_moderators_group, remove_moderators_group)]
