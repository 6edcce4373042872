"""Prints a new VAPID key pair for Web Push (rooms/notify/push.py), as the environment lines to add. Keep the
private key secret; changing the pair ends every device's subscription (each must turn notifications on again)."""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management.base import BaseCommand
from py_vapid import Vapid02, b64urlencode


class Command(BaseCommand):
    help = "Print a new VAPID key pair for Web Push, as VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY lines."

    def handle(self, *args, **options) -> None:
        vapid = Vapid02()
        vapid.generate_keys()
        # The forms browsers and web-push libraries exchange: the raw private number, the uncompressed point.
        private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
        public = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.stdout.write(f"VAPID_PUBLIC_KEY={b64urlencode(public)}\nVAPID_PRIVATE_KEY={b64urlencode(private)}\n")
