"""The admin site (`/admin/`) is the platform admin's, whole. Its pages show every tenant's
connections, tokens, members and audit log; Django's per-model permissions would let a staff user
who was given them read all of that, so the site asks one question of every page instead."""
from django.contrib import admin

from loom.roles import is_platform_admin


class LoomAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        return is_platform_admin(request.user)
