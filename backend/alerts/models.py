"""Notification channels of a tenant and the deliveries of alerts to them (README, "Alerts")."""
from django.db import models

from runs.models import Run
from tenancy.crypto import decrypt, encrypt
from tenancy.models import TenantOwned, connection_name_validator


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook"  # JSON body, signed with the channel's secret (X-Loom-Signature)
    SLACK = "slack"  # a Slack-compatible incoming webhook ({"text": ...})
    EMAIL = "email"  # through Django's email backend


class Event(models.TextChoices):
    FAILURE = "failure"
    SUCCESS = "success"
    RECOVERY = "recovery"  # the first success after a failure
    DURATION = "duration"  # a run that took longer than its rule's duration_s
    TEST = "test"  # POST .../channels/{id}/test/


RULE_EVENTS = (Event.FAILURE, Event.SUCCESS, Event.RECOVERY, Event.DURATION)


class Channel(TenantOwned):
    # Named in workflow graphs ("alerts": [{"channel": name, ...}]), like connections.
    name = models.CharField(max_length=63, validators=[connection_name_validator])
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    url = models.URLField(max_length=2000, blank=True, default="", help_text="webhook and slack: where alerts are POSTed.")
    address = models.EmailField(blank=True, default="", help_text="email: where alerts are mailed.")
    # Fernet token (tenancy.crypto) of the webhook's signing secret; never serialized.
    secret_encrypted = models.BinaryField(default=b"", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="unique_channel_name")]

    def __str__(self):
        return f"{self.tenant.slug}/{self.name}"

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = encrypt(secret) if secret else b""

    def get_secret(self) -> str:
        return decrypt(bytes(self.secret_encrypted)) if self.secret_encrypted else ""

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # an attempt is under way
    DELIVERED = "delivered"
    FAILED = "failed"  # the receiver refused it, or every attempt failed


class Delivery(TenantOwned):
    """One event of one run's end to one channel (`duration`: of the run, maybe before it ends): made
    once (the unique constraints), then attempted until delivered, refused, or out of attempts
    (alerts.services.delivery_attempt)."""

    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                            help_text="None for a test alert.")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=20, choices=Event.choices)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the run ended, for this event: a repaired run that ends again alerts again, a repeated
    # signal of the same end does not (the unique constraint). None: a duration alert sent while the
    # run was still going (alerts.services.duration_deliveries_create).
    run_ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["run", "run_ended_at", "channel", "event"],
                                               condition=models.Q(run__isnull=False), name="unique_delivery"),
                       # A run's duration alerts once per channel, whether it was seen running too long
                       # or ending too late (NULLs of run_ended_at would not collide above).
                       models.UniqueConstraint(fields=["run", "channel"], condition=models.Q(run__isnull=False, event="duration"),
                                               name="unique_duration_delivery")]
        indexes = [models.Index(fields=["tenant", "-id"]), models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} of run {self.run_id} to {self.channel_id} ({self.status})"
