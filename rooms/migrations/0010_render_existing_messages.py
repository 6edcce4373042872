"""Messages written before formatting, rendered as they would be if sent today. Not atomic: a thousand rows per
transaction, so the messages table is never locked for the whole of a large history (until a row is done,
pages show its text plain)."""

from django.db import migrations, transaction


def render_existing(apps, schema_editor):
    from rooms.formatting import render

    Message = apps.get_model("rooms", "Message")
    unrendered, last = Message.objects.filter(html="").only("pk", "body").order_by("pk"), 0
    while batch := list(unrendered.filter(pk__gt=last)[:1000]):
        for message in batch:
            message.html = render(message.body)
        with transaction.atomic():
            Message.objects.bulk_update(batch, ["html"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("rooms", "0009_message_html"),
    ]

    operations = [
        migrations.RunPython(render_existing, migrations.RunPython.noop, elidable=True),
    ]
