"""Revoke API tokens: every token of the named users, or only those that have expired."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from knox.models import AuthToken


class Command(BaseCommand):
    help = (
        "Revoke every API token of each named user at once (the next request with one is a 401), or with "
        "--expired delete the tokens past their expiry, of every user."
    )

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", metavar="username")
        parser.add_argument("--expired", action="store_true", help="Delete every expired token instead.")

    def handle(self, *args, usernames, expired, **options):
        if expired == bool(usernames):
            raise CommandError("Name the users whose tokens to revoke, or give --expired (not both).")
        if expired:
            count, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
            self.stdout.write(f"Deleted {count} expired token(s).")
            return
        users = get_user_model().objects.filter(username__in=usernames)
        unknown = sorted(set(usernames) - {user.username for user in users})
        if unknown:
            raise CommandError(f"No such user: {', '.join(unknown)}. Nothing was revoked.")
        for user in users.order_by("username"):
            count, _ = AuthToken.objects.filter(user=user).delete()
            self.stdout.write(f"Revoked {count} token(s) of {user.username!r}.")
