"""The one definition of a platform admin (README, "Roles"). Every app may import this module:
it imports no app (the `/api/auth/me/` payload in web and the tenancy rules both read it)."""
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.permissions import BasePermission


def is_platform_admin(user: AbstractBaseUser | None) -> bool:
    """An active superuser: admin of every tenant, owner of quotas, pools and queues, the only user
    of Django's admin site (loom.admin_site). `is_staff` and per-model permissions are not this."""
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


class IsPlatformAdmin(BasePermission):
    message = "Only platform admins may do this."

    def has_permission(self, request, view):
        return is_platform_admin(request.user)
