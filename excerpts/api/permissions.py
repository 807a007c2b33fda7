"""
Who may do what.

The public reads published data. Curators (the ``curators`` group, created by a migration) add and
change, see drafts and read history. Deleting needs the model's delete permission, which only admins
hold. Writes are checked against Django's model permissions, so the admin and the API agree.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissionsOrAnonReadOnly

CURATORS_GROUP = "curators"


def is_curator(user):
    """Whether the user may see drafts and history: anyone allowed to change excerpts."""
    return bool(user and user.is_authenticated and user.has_perm("excerpts.change_excerpt"))


class IsCurator(BasePermission):
    """Curators and admins only; anonymous users are asked to authenticate (401)."""

    message = "Only curators may read this."

    def has_permission(self, request, view):
        return is_curator(request.user)


class ModelPermissionsOrReadOnly(DjangoModelPermissionsOrAnonReadOnly):
    """
    Reads for everyone; writes need the model permission (curators add and change, admins also delete).

    DRF's class asks the view for its queryset, to learn the model, before it finds that a read needs no
    permission; here a read is let through first, so no queryset is built for it.
    """

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().has_permission(request, view)
