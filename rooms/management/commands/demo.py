"""Demo data for a first look: two people, a moderator, an admin and two rooms, General (the default room) with a
few messages."""

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext

from rooms import services
from rooms.models import Room

DEMO_PASSWORD = "roomcast-demo"
# name -> role: "admin" is a superuser; "mod" is staff in the Moderators group (made by a migration), so it
# moderates in admin without being a superuser.
DEMO_USERS = {"alice": "", "bob": "", "mod": "moderator", "admin": "admin"}


class Command(BaseCommand):
    help = f"Create demo users ({', '.join(DEMO_USERS)}; password {DEMO_PASSWORD!r}) and rooms."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even though other accounts exist.")

    @transaction.atomic
    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(gettext("Demo data has a known admin password: only for development (DEBUG on)."))
        User = get_user_model()
        others = User.objects.exclude(username__in=DEMO_USERS)
        if others.exists() and not force:
            raise CommandError(gettext("This database has real accounts; demo data is for an empty one (use --force)."))
        people = {}
        for name, role in DEMO_USERS.items():
            user, created = User.objects.get_or_create(
                username=name,
                defaults={"email": f"{name}@example.com", "is_staff": bool(role), "is_superuser": role == "admin"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
                if role == "moderator":
                    user.groups.add(Group.objects.get(name="Moderators"))
            people[name] = user
        for name, about in [("General", "Everything and anything"), ("Random", "Off-topic chatter")]:
            if not Room.objects.filter(kind=Room.Kind.OPEN, name=name).exists():
                services.create_room(people["alice"], name, about)
        general = Room.objects.get(kind=Room.Kind.OPEN, name="General")
        Room.objects.filter(pk=general.pk).update(is_default=True)  # where people who sign up start
        if not general.messages.exists():
            for author, text in [
                ("alice", "Welcome to Roomcast!"),
                ("bob", "Hi alice 👋"),
                ("alice", 'Messages take **Markdown**, `code`, :tada: and code:\n```python\nprint("hello")\n```'),
            ]:
                services.join(people[author], general)
                services.post_message(people[author], general.pk, text, uuid.uuid4())
        ready = gettext("Demo ready: log in as alice, bob, mod or admin with %(password)s.")
        self.stdout.write(self.style.SUCCESS(ready % {"password": repr(DEMO_PASSWORD)}))
