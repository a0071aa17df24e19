"""``coffre demo-totp EMAIL``: print the current code of a demo person's authenticator app.

For the people ``coffre demo`` created only (their secrets are in var/demo/people.json): it lets
a newcomer log in as the demo's principal access manager without an authenticator app.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from coffre.accounts.services_two_factor import current_code
from coffre.demo.people import load_secrets


class Command(BaseCommand):
    help = "Print the current two-factor code of one of the demo's people."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        email = email.strip().lower()
        kept = load_secrets(Path(settings.VAR_DIR) / "demo")
        if "totp_key" not in kept.get(email, {}):
            raise CommandError(
                f"{email} is not one of the demo's people with an authenticator (run `coffre demo`)."
            )
        device = TOTPDevice.objects.filter(
            user__email__iexact=email, confirmed=True, key=kept[email]["totp_key"]
        ).first()
        if device is None:
            raise CommandError(f"{email} has no demo authenticator in this database (run `coffre demo`).")
        self.stdout.write(current_code(device))
