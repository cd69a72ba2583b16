from django.contrib.admin.apps import AdminConfig


class LoomAdminConfig(AdminConfig):
    """Django's admin, on Loom's site (loom.admin_site): every app's and library's model admins
    register on it, so none can be opened by a per-model permission alone."""

    default_site = "loom.admin_site.LoomAdminSite"
