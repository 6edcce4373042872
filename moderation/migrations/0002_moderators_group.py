"""The Moderators group, restated now that bans, reports and the log are moderation's (see rooms' 0004 for why
each permission): the same permissions, named by their new app. Idempotent: on a database that had the group,
it sets what it already holds; tests call it again after a flush has emptied the tables."""

from django.db import migrations

GROUP = "Moderators"
PERMISSIONS = [
    ("rooms", "view_message"),
    ("rooms", "delete_message"),
    ("rooms", "view_room"),
    ("rooms", "change_room"),
    ("rooms", "view_mute"),
    ("rooms", "add_mute"),
    ("rooms", "change_mute"),
    ("rooms", "delete_mute"),
    ("moderation", "view_ban"),
    ("moderation", "add_ban"),
    ("moderation", "change_ban"),
    ("moderation", "view_report"),
    ("moderation", "change_report"),
    ("moderation", "view_moderationlog"),
    ("auth", "view_user"),
]


def create_moderators_group(apps, schema_editor) -> None:
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate (post_migrate), too late here on a fresh database: create
    # them now (with their content types; existing rows are skipped).
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


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(create_moderators_group, migrations.RunPython.noop)]
