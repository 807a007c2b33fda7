"""Create a curator (or refresh one) and print a new API token."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from excerpts.api.permissions import CURATORS_GROUP


class Command(BaseCommand):
    help = (
        "Create a curator: a staff user in the curators group (add and change, never delete). Print a new API "
        "token on stdout; running it again for the same user rotates the token, so the old one stops working."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="E-mail address for a new user.")

    @transaction.atomic
    def handle(self, *args, username, email, **options):
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
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)

        self.stderr.write(f"{'Created' if created else 'Updated'} curator {username!r}; new API token:")
        self.stdout.write(token.key)
        self.stderr.write(
            "Use it as `Authorization: Token <key>`."
            + (f" To use the admin, set a password: manage.py changepassword {username}" if created else "")
        )
