import pytest

from audit.models import AuditEntry


@pytest.fixture
def root(make_user, client_for):
    """A platform admin's client."""
    return client_for(make_user("root", is_superuser=True, is_staff=True))


def entries(**filters) -> list[AuditEntry]:
    """Entries oldest first, without those of the fixtures' setup (tenants and members made by `system`)."""
    return list(AuditEntry.objects.filter(**filters).exclude(actor="system").order_by("id"))


def one(action: str, **filters) -> AuditEntry:
    found = entries(action=action, **filters)
    assert len(found) == 1, [(e.action, e.object_label, e.after) for e in entries()]
    return found[0]
