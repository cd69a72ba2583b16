from django.conf import settings
from django.db import models

from runs.models import Run
from tenancy.models import TenantOwned
from workflows.models import Workflow, WorkflowVersion


class Reprocess(models.TextChoices):
    """Which dates that already have a run a backfill runs again (Airflow's reprocess_behavior)."""

    NONE = "none"
    FAILED = "failed"
    ALL = "all"


class BackfillStatus(models.TextChoices):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Backfill(TenantOwned):
    """Runs of a workflow version for the logical dates of its schedule in [start, end], at most
    `max_active_runs` at once (schedules.backfills). On Airflow: Airflow's backfill `external_id`,
    its DAG runs mirrored back as Loom runs."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="backfills")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="+")
    engine = models.CharField(max_length=20, default="local")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reprocess = models.CharField(max_length=10, choices=Reprocess.choices, default=Reprocess.NONE)
    max_active_runs = models.PositiveIntegerField(default=4)
    status = models.CharField(max_length=20, choices=BackfillStatus.choices, default=BackfillStatus.RUNNING)
    error = models.TextField(blank=True, default="")
    external_id = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


class BackfillDate(models.Model):
    """One logical date of a backfill and the run that covers it (none yet: queued)."""

    backfill = models.ForeignKey(Backfill, on_delete=models.CASCADE, related_name="dates")
    logical_date = models.DateTimeField()
    data_interval_start = models.DateTimeField()
    data_interval_end = models.DateTimeField()
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["backfill", "logical_date"]
        constraints = [models.UniqueConstraint(fields=["backfill", "logical_date"], name="unique_backfill_date")]
