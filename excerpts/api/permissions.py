"""
Who may do what.

The public reads published data. Curators (the ``curators`` group, created by a migration) add and
change, see drafts and read history. Deleting needs the model's delete permission, which only admins
hold. Writes are checked against Django's model permissions, so the admin and the API agree.
"""

from rest_framework.permissions import BasePermission

CURATORS_GROUP = "curators"


def is_curator(user):
    """Whether the user may see drafts and history: anyone allowed to change excerpts."""
    return bool(user and user.is_authenticated and user.has_perm("excerpts.change_excerpt"))


class IsCurator(BasePermission):
    """Curators and admins only; anonymous users are asked to authenticate (401)."""

    message = "Only curators may read this."

    def has_permission(self, request, view):
        return is_curator(request.user)
