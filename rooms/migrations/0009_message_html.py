from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0008_default_room"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="html",
            field=models.TextField(db_default="", default="", editable=False, verbose_name="rendered text"),
        ),
    ]
