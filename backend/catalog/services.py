from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from audit.services import Action, record
from catalog.inspection import NotebookError, notebook_read
from catalog.models import Notebook, NotebookVersion, notebook_name_validator
from catalog.selectors import notebook_users_get
from catalog.text import nul_replace
from loom.errors import Conflict, FieldsInvalid
from tenancy.models import Tenant


class NotebookInUse(Conflict):
    """A notebook still used by workflows cannot be deleted."""

    def __init__(self, workflows: list[str]):
        self.workflows = workflows
        super().__init__(f"The notebook is used by workflows: {', '.join(workflows)}.")

    def body(self) -> dict:
        return {"detail": str(self), "workflows": self.workflows}


def notebook_upload(*, tenant: Tenant, name: str, data: bytes, user=None) -> tuple[NotebookVersion, bool]:
    """Add a notebook or a new version of it. Returns (version, created); unchanged content creates nothing."""
    try:
        notebook_name_validator(name)
    except DjangoValidationError as e:
        raise FieldsInvalid({"name": e.messages})
    try:
        inspected = notebook_read(data, max_bytes=settings.LOOM_NOTEBOOK_MAX_BYTES)
    except NotebookError as e:
        raise FieldsInvalid({"file": [str(e)]})
    try:
        with transaction.atomic():
            notebook, _ = Notebook.objects.get_or_create(tenant=tenant, name=name)
            latest = notebook.versions.select_for_update().order_by("-number").first()
            if latest and latest.sha256 == inspected.sha256:
                return latest, False
            version = NotebookVersion.objects.create(
                notebook=notebook,
                number=(latest.number + 1) if latest else 1,
                sha256=inspected.sha256,
                # A NUL in a cell is stored as U+FFFD in the signature (the content keeps it, JSON-escaped).
                content=nul_replace(inspected.content)[0],
                parameters=nul_replace(inspected.parameters_json())[0],
                outputs=nul_replace(inspected.outputs_json())[0],
                kernel_name=nul_replace(inspected.kernel_name)[0],
                language=nul_replace(inspected.language)[0],
                created_by=user if user and user.is_authenticated else None,
            )
            notebook.save(update_fields=["updated_at"])
            record(Action.NOTEBOOK_UPLOADED, tenant=tenant, obj=notebook,
                   after={"version": version.number, "sha256": version.sha256})
            return version, True
    except IntegrityError:
        # Two uploads of the same notebook raced for a version number; the loser retries once.
        return notebook_upload(tenant=tenant, name=name, data=data, user=user)


def notebooks_sync(*, tenant: Tenant, directory: Path | None = None) -> list[tuple[NotebookVersion, bool]]:
    """Upload every .ipynb of a folder (Loom's shipped notebooks/ by default) into the tenant's catalog."""
    directory = Path(directory or settings.LOOM_NOTEBOOKS_DIR)
    return [
        notebook_upload(tenant=tenant, name=path.name, data=path.read_bytes())
        for path in sorted(directory.glob("*.ipynb"))
    ]


def notebook_delete(*, notebook: Notebook) -> None:
    """Delete a notebook and its versions, unless something still uses it (a workflow's latest
    version, say: the receivers of `notebook_users` tell)."""
    users = notebook_users_get(notebook=notebook)
    if users:
        raise NotebookInUse(users)
    with transaction.atomic():
        record(Action.NOTEBOOK_DELETED, tenant=notebook.tenant, obj=notebook,
               before={"versions": notebook.versions.count()})
        notebook.delete()
        Tenant.objects.filter(pk=notebook.tenant_id).update(notebooks_deleted=F("notebooks_deleted") + 1)
