from django.conf import settings
from django.db import models

from tenancy.models import TenantOwned
from workflows.models import Workflow, WorkflowVersion


class Status(models.TextChoices):
    """Airflow's words for task states, plus `cancelled`."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({Status.SUCCESS, Status.FAILED, Status.SKIPPED, Status.UPSTREAM_FAILED, Status.CANCELLED})
ACTIVE = frozenset({Status.QUEUED, Status.RUNNING})


class Trigger(models.TextChoices):
    """What started a run."""

    MANUAL = "manual"  # a person, in the editor
    API = "api"  # a token
    SCHEDULE = "schedule"
    BACKFILL = "backfill"
    AIRFLOW = "airflow"  # started in Airflow itself and mirrored back


class Run(TenantOwned):
    """One execution of a pinned workflow version on an engine. The database is the source of truth."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="runs")
    engine = models.CharField(max_length=20, default="local")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    parameters = models.JSONField(default=dict, blank=True, help_text="Run-time overrides of global parameters.")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The Airflow engine: the DAG run's id in Airflow (set before Loom triggers it).
    external_id = models.CharField(max_length=250, blank=True, default="")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    # Airflow's meaning: the run covers [data_interval_start, data_interval_end); a manual run's
    # logical date is when it was asked for, unless the request gives one.
    logical_date = models.DateTimeField(null=True, blank=True)
    data_interval_start = models.DateTimeField(null=True, blank=True)
    data_interval_end = models.DateTimeField(null=True, blank=True)
    # The cache may answer its nodes (runs.reuse); false runs every node.
    cache = models.BooleanField(default=False)
    # {node: node run id} of the nodes not executed in this run (reused, cached or kept by a repair):
    # the Airflow engine hands their outputs to the DAG run's conf, and its mirror leaves their rows.
    reuse = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "status"]), models.Index(fields=["workflow", "-id"]),
                   models.Index(fields=["engine", "status"])]
        constraints = [models.UniqueConstraint(fields=["workflow", "engine", "external_id"], condition=~models.Q(external_id=""),
                                               name="unique_external_run"),
                       # Loom's scheduler never starts two runs for one logical date, however many act
                       # (Airflow's runs: Airflow sees to it).
                       models.UniqueConstraint(fields=["workflow", "logical_date"],
                                               condition=models.Q(trigger="schedule", engine="local"),
                                               name="unique_scheduled_run")]

    def __str__(self):
        return f"run {self.pk} of {self.workflow_id} ({self.status})"


class NodeRun(models.Model):
    """A node of a run; a node with map_over has one row with map_index None (the summary of the
    node) and one row per item with map_index 0..n-1 (the notebook executions)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="node_runs")
    node = models.CharField(max_length=64)
    map_index = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    # The parameters the notebook ran with (resolved by runtime.parameters.parameters_resolve).
    parameters = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error = models.JSONField(null=True, blank=True)
    notebook = models.TextField(blank=True, default="", help_text="The executed notebook (nbformat JSON).")
    log = models.TextField(blank=True, default="")
    warnings = models.JSONField(default=list, blank=True, help_text="What the user must know about how this node ran (an unsandboxed kernel, say).")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Local engine bookkeeping. `token` names the one task message allowed to run the current
    # attempt: a duplicate or stale message carries another token (or finds the row not queued).
    token = models.CharField(max_length=32, blank=True, default="")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The tenant's pool whose slots the row takes or waits for ("": the slots no pool reserves).
    pool = models.CharField(max_length=40, blank=True, default="")
    not_before = models.DateTimeField(null=True, blank=True, help_text="A retry waits until then.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")
    # Airflow engine: the DAG run of the task instance this row mirrors, where its log is (a repair
    # in a new DAG run leaves the rows it keeps in the earlier one).
    external_id = models.CharField(max_length=250, blank=True, default="")
    # The workflow version this node ran on (a repair may move a run's failed nodes to a newer one).
    version = models.ForeignKey(WorkflowVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Not executed: its outputs came from another node run, named by a partial run's `reuse` or
    # found by the cache (whose key is `cache_key`).
    reused_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cached_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cache_key = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node", "map_index"], name="unique_node_run"),
            models.UniqueConstraint(fields=["run", "node"], condition=models.Q(map_index=None), name="unique_node_summary"),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self):
        return f"{self.node}[{self.map_index}]" if self.map_index is not None else self.node


class Lease(models.Model):
    """Who does a job that one worker at a time should do (mirroring Airflow), until when."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200, blank=True, default="")
    expires_at = models.DateTimeField()
