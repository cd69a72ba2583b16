from django.db.models import QuerySet

from catalog.models import Notebook, NotebookVersion
from catalog.signals import notebook_users
from tenancy.models import Tenant


def notebook_signatures(*, tenant: Tenant, names: set[str] | None = None) -> dict[str, list[dict]]:
    """The latest parameter signature of each of the tenant's notebooks (by name)."""
    versions = latest_versions(tenant=tenant, names=names)
    return {name: v.parameters for name, v in versions.items()}


def latest_versions(*, tenant: Tenant, names: set[str] | None = None) -> dict[str, NotebookVersion]:
    """The newest version of each of the tenant's notebooks (optionally only these names)."""
    qs: QuerySet = NotebookVersion.objects.filter(notebook__tenant=tenant).select_related("notebook")
    if names is not None:
        qs = qs.filter(notebook__name__in=names)
    result: dict[str, NotebookVersion] = {}
    for v in qs.order_by("notebook__name", "-number").defer("content"):
        result.setdefault(v.notebook.name, v)
    return result


def notebook_version_get(*, notebook: Notebook, number: int | None = None) -> NotebookVersion:
    """A version of the notebook (the latest by default); NotebookVersion.DoesNotExist naming the
    notebook and the number when there is no such version."""
    qs = notebook.versions.all()
    if number is None:
        return qs.order_by("-number").first()
    try:
        return qs.get(number=number)
    except NotebookVersion.DoesNotExist:
        raise NotebookVersion.DoesNotExist(f"Notebook {notebook.name} has no version {number}.") from None


def notebook_usage_get(*, notebook: Notebook) -> list[dict]:
    """What runs the notebook, as the apps built on the catalog say: per workflow, {"workflow",
    "workflow_id", "latest": whether its latest version runs it, "versions": [{"number",
    "notebook_version"}]}."""
    usage = [u for _, found in notebook_users.send(sender=Notebook, notebook=notebook) for u in found]
    return sorted(usage, key=lambda u: (u["workflow"], u["workflow_id"]))


def notebook_users_get(*, notebook: Notebook) -> list[str]:
    """What keeps the notebook from being deleted: the workflows whose latest version runs it."""
    return [u["workflow"] for u in notebook_usage_get(notebook=notebook) if u["latest"]]
