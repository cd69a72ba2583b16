from django.conf import settings
from django.db import models

from tenancy.models import TenantOwned
from workflows.models import Workflow, WorkflowVersion


class DeploymentStatus(models.TextChoices):
    DEPLOYING = "deploying"  # files written; Airflow has not parsed this version yet
    DEPLOYED = "deployed"  # Airflow parsed it and it is unpaused
    FAILED = "failed"  # Airflow reported an import error, or did not parse it in time


class Deployment(TenantOwned):
    """A deployed workflow version, which runs on its schedule on `engine`. On Airflow: the DAG
    file Loom wrote, and whether Airflow took it. On the local engine Loom's scheduler
    (schedules.scheduler) starts its runs; there is nothing to parse, so it is deployed at once.

    One per workflow: deploying another version replaces the deployed one (on Airflow the same dag
    id, the same file).
    """

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="deployment")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="+")
    dag_id = models.CharField(max_length=250, unique=True)
    status = models.CharField(max_length=20, choices=DeploymentStatus.choices, default=DeploymentStatus.DEPLOYING)
    error = models.TextField(blank=True, default="", help_text="The import error Airflow reported, or why the deploy failed.")
    # sha256 of the DAG file written, compared with the source Airflow parsed.
    source_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    requested_at = models.DateTimeField(help_text="When the files of this version were written.")
    deployed_at = models.DateTimeField(null=True, blank=True, help_text="When Airflow had parsed this version.")
    # Airflow's timestamp of the import error the file had when this version was written: only a
    # newer one is this version's (compared in Airflow's clock, not Loom's).
    stale_error_at = models.DateTimeField(null=True, blank=True)
    parse_seconds = models.FloatField(null=True, blank=True, help_text="From the files written to the DAG visible in Airflow.")
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    engine = models.CharField(max_length=20, default="airflow", help_text="Where the schedule runs: local or airflow.")
    paused = models.BooleanField(default=False, help_text="A paused deployment starts no scheduled run.")
    max_active_runs = models.PositiveIntegerField(default=16, help_text="Scheduled runs active at once (local engine).")

    class Meta:
        ordering = ["dag_id"]

    def __str__(self):
        return f"{self.dag_id} v{self.version.number} ({self.status})"

    @property
    def schedule_paused(self) -> bool:
        """Whether its schedule stands still: paused by someone, or its tenant deactivated."""
        return self.paused or not self.tenant.is_active
