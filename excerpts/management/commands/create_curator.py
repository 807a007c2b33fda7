"""Create a curator (or refresh one) and print a new API token."""

from argparse import ArgumentTypeError
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from knox.models import AuthToken

from excerpts.api.permissions import CURATORS_GROUP


def positive_days(value):
    if not value.isdigit() or int(value) < 1:
        raise ArgumentTypeError(f"{value!r} is not a whole number of days, 1 or more.")
    return int(value)


class Command(BaseCommand):
    help = (
        "Create a curator: a staff user in the curators group (add and change, never delete). Print a new API "
        "token on stdout; running it again for the same user rotates the token, so the old one stops working. "
        "The database keeps only a digest of the token: it cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="E-mail address for a new user.")
        parser.add_argument(
            "--expires-in",
            type=positive_days,
            metavar="DAYS",
            help="The token stops working after this many days (by default it works until revoked or rotated).",
        )

    @transaction.atomic
    def handle(self, *args, username, email, expires_in, **options):
        try:
            group = Group.objects.get(name=CURATORS_GROUP)
        except Group.DoesNotExist:
            raise CommandError(
                f"The {CURATORS_GROUP!r} group does not exist: run `manage.py migrate` first."
            ) from None
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        if created:
            user.set_unusable_password()
        user.is_staff = True
        user.save()
        user.groups.add(group)
        AuthToken.objects.filter(user=user).delete()
        token, key = AuthToken.objects.create(user, expiry=timedelta(days=expires_in) if expires_in else None)

        self.stderr.write(f"{'Created' if created else 'Updated'} curator {username!r}; new API token:")
        self.stdout.write(key)
        self.stderr.write(
            "Use it as `Authorization: Token <key>`; it is not stored and cannot be shown again."
            + (f" It expires at {token.expiry:%Y-%m-%d %H:%M} UTC." if token.expiry else "")
            + (f" To use the admin, set a password: manage.py changepassword {username}" if created else "")
        )
