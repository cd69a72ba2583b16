"""The audit log: one row per change or action, never changed or deleted afterwards.

Rows outlive what they name (a deleted workflow, user or tenant), so they keep their own copies
of the names shown (tenant slug, actor's username, object label) and point at tenants and users
without a database constraint. Retention (`manage.py prune_audit`) is the only deletion; on
PostgreSQL a trigger also refuses UPDATE and DELETE (migration 0002).
"""
from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """Someone tried to change or delete an audit entry."""


class Action(models.TextChoices):
    WORKFLOW_CREATED = "workflow.created"
    WORKFLOW_SAVED = "workflow.saved"  # a new version
    WORKFLOW_DELETED = "workflow.deleted"
    NOTEBOOK_UPLOADED = "notebook.uploaded"  # a new version
    NOTEBOOK_DELETED = "notebook.deleted"
    RUN_STARTED = "run.started"
    RUN_CANCELLED = "run.cancelled"
    RUN_REPAIRED = "run.repaired"
    DEPLOYMENT_DEPLOYED = "deployment.deployed"
    DEPLOYMENT_UNDEPLOYED = "deployment.undeployed"
    DEPLOYMENT_PAUSED = "deployment.paused"
    DEPLOYMENT_RESUMED = "deployment.resumed"
    BACKFILL_STARTED = "backfill.started"
    BACKFILL_CANCELLED = "backfill.cancelled"
    CONNECTION_CREATED = "connection.created"
    CONNECTION_CHANGED = "connection.changed"
    CONNECTION_DELETED = "connection.deleted"
    CHANNEL_CREATED = "channel.created"  # a notification channel (alerts)
    CHANNEL_CHANGED = "channel.changed"
    CHANNEL_DELETED = "channel.deleted"
    MEMBER_ADDED = "member.added"
    MEMBER_CHANGED = "member.changed"
    MEMBER_REMOVED = "member.removed"
    INVITATION_CREATED = "invitation.created"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_REVOKED = "invitation.revoked"  # revoked, or replaced by a new invitation of the address
    TENANT_CREATED = "tenant.created"
    TENANT_CHANGED = "tenant.changed"
    TENANT_DELETED = "tenant.deleted"
    LOGIN_FAILED = "login.failed"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"  # by its user, an admin, or a password change


class ActorKind(models.TextChoices):
    USER = "user"  # a logged-in person (or their token)
    ANONYMOUS = "anonymous"  # a request without a login (a failed login)
    SYSTEM = "system"  # Loom itself: a worker, a management command
    SCHEDULER = "scheduler"  # a scheduler (Loom's or Airflow's) started a run on a schedule or backfill
    AIRFLOW = "airflow"  # someone in Airflow's own UI or API


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Audit entries cannot be changed.")

    def delete(self):
        raise AppendOnly("Audit entries cannot be deleted (retention: manage.py prune_audit).")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnly("Audit entries cannot be changed.")


class AuditEntry(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    tenant = models.ForeignKey("tenancy.Tenant", null=True, blank=True, on_delete=models.DO_NOTHING,
                               db_constraint=False, related_name="+", help_text="Empty for logins and the like.")
    tenant_slug = models.CharField(max_length=40, blank=True, default="")
    # No `choices` on these two: a new action needs no migration (the API's schema lists them).
    actor_kind = models.CharField(max_length=10)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                   db_constraint=False, related_name="+")
    actor = models.CharField(max_length=150, help_text="The user's username, or the actor kind.")
    address = models.GenericIPAddressField(null=True, blank=True, help_text="The client's address, for requests.")
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_label = models.CharField(max_length=300, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["tenant", "-id"], name="audit_tenant_newest"),
                   models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type} {self.object_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Audit entries cannot be deleted (retention: manage.py prune_audit).")
