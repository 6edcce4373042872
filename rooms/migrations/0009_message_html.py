from django.db import migrations, models


def render_existing(apps, schema_editor):
    """Messages written before formatting: rendered now, as they would be if sent today."""
    from rooms.formatting import render

    Message = apps.get_model("rooms", "Message")
    batch = []
    for message in Message.objects.filter(html="").only("pk", "body").iterator(chunk_size=1000):
        message.html = render(message.body)
        batch.append(message)
        if len(batch) == 1000:
            Message.objects.bulk_update(batch, ["html"])
            batch = []
    Message.objects.bulk_update(batch, ["html"])


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0008_default_room"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="html",
            field=models.TextField(default="", editable=False, verbose_name="rendered text"),
        ),
        migrations.RunPython(render_existing, migrations.RunPython.noop, elidable=True),
    ]
