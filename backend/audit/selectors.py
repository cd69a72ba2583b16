from datetime import datetime

from django.db.models import Q, QuerySet

from audit.models import AuditEntry


def audit_entries(*, tenant=None, tenant_slug: str = "", actor: str = "", action: str = "", object_type: str = "",
                  object_id: str = "", since: datetime | None = None, until: datetime | None = None) -> QuerySet[AuditEntry]:
    """Entries newest first, of one tenant (`tenant`), or of all (`tenant=None`, platform admins),
    narrowed by each filter given. `action` without a dot is a category: "run" is every run.* action."""
    entries = AuditEntry.objects.all() if tenant is None else AuditEntry.objects.filter(tenant=tenant)
    if tenant_slug:
        entries = entries.filter(tenant_slug=tenant_slug)
    if actor:
        entries = entries.filter(actor=actor)
    if action:
        entries = entries.filter(Q(action=action) if "." in action else Q(action__startswith=f"{action}."))
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if since:
        entries = entries.filter(at__gte=since)
    if until:
        entries = entries.filter(at__lt=until)
    return entries.order_by("-id")
