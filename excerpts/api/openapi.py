"""OpenAPI generation details drf-spectacular cannot infer by itself."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions


class ExcerptsAutoSchema(AutoSchema):
    """AutoSchema that knows anonymous reads are allowed where the model permissions say so."""

    def get_auth(self):
        auths = super().get_auth()
        anonymous_reads = any(
            isinstance(permission, permissions.DjangoModelPermissionsOrAnonReadOnly)
            for permission in self.view.get_permissions()
        )
        if anonymous_reads and self.method in permissions.SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths
