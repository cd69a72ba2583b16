from django.conf import settings
from django.db import models

from tenancy.models import TenantOwned


class Workflow(TenantOwned):
    name = models.CharField(max_length=200)
    latest_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


# A version's large fields, for `defer` where a related version is only named (its number).
VERSION_BULK = ("version__graph", "version__notebook_pins", "version__validation")


class WorkflowVersion(models.Model):
    """An immutable saved graph. Runs and deployments pin one."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    # {notebook name: {"version": n, "sha256": ...}} of the catalog at save time, so a run of this
    # version executes exactly the notebooks it was saved against.
    notebook_pins = models.JSONField(default=dict)
    # The version's problems as graph_validate found them against the notebooks it pinned, what
    # depends on the tenant aside (its connections, pools and queues change; checked on every
    # read): {"rules": ..., "errors": [...], "connections": [[node, name]], "placements": [[node, pool, queue]]}.
    # Kept so that a read does not validate again; workflows.selectors.workflow_version_errors
    # checks again only when the rules changed since. None: not checked yet.
    validation = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="unique_workflow_version")]
