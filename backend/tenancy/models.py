from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from tenancy.crypto import decrypt, encrypt

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{0,39}$", "Use 1-40 lowercase letters, digits or '-', starting with a letter."
)
# Connection names become part of Airflow connection ids and environment variable names.
connection_name_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}$", "Use 1-63 lowercase letters, digits or '_', starting with a letter."
)


class Role(models.TextChoices):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


class Tenant(models.Model):
    slug = models.CharField(max_length=40, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    concurrency_quota = models.PositiveIntegerField(
        default=8, help_text="How many notebooks of this tenant may run at once (also its Airflow pool size)."
    )
    # Limits (README, "Limits"): empty means the platform's setting; never above the platform maximum.
    node_timeout_s = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Timeout of a node that sets no timeout_s, in seconds (at most LOOM_NODE_TIMEOUT_MAX_S). "
                  "Empty: LOOM_NODE_TIMEOUT_S.")
    artifacts_quota_mb = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Space all of this tenant's artifacts may take on the local engine, in MB (at most "
                  "LOOM_TENANT_ARTIFACTS_MAX_MB). Empty: LOOM_TENANT_ARTIFACTS_MAX_MB.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class TenantOwned(models.Model):
    """Every tenant-owned row has a tenant; views reach rows only through it (see tenancy.scoping)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)

    class Meta:
        abstract = True


class Membership(TenantOwned):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="one_membership_per_user")]

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class ConnectionKind(models.TextChoices):
    POSTGRES = "postgres"
    MYSQL = "mysql"
    S3 = "s3"
    HTTP = "http"
    GENERIC = "generic"


class Connection(TenantOwned):
    name = models.CharField(max_length=63, validators=[connection_name_validator])
    kind = models.CharField(max_length=20, choices=ConnectionKind.choices, default=ConnectionKind.GENERIC)
    description = models.CharField(max_length=500, blank=True, default="")
    host = models.CharField(max_length=255, blank=True, default="")
    port = models.PositiveIntegerField(null=True, blank=True)
    login = models.CharField(max_length=255, blank=True, default="")
    schema = models.CharField(max_length=255, blank=True, default="")
    extra = models.JSONField(default=dict, blank=True)
    # Fernet token of the secret; never serialized, only decrypted where a notebook runs.
    secret_encrypted = models.BinaryField(default=b"", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="unique_connection_name")]

    def __str__(self):
        return f"{self.tenant.slug}/{self.name}"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = encrypt(secret) if secret else b""

    def get_secret(self) -> str:
        return decrypt(bytes(self.secret_encrypted)) if self.secret_encrypted else ""
