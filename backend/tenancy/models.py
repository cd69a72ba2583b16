import json

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from tenancy.crypto import decrypt, encrypt
from tenancy.kinds import ConnectionKind, secret_extra_keys

__all__ = ["Connection", "ConnectionKind", "Membership", "Role", "Tenant", "TenantOwned"]

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
    node_memory_mb = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Memory each process of a kernel may use, in MB, for nodes that set no memory_mb (at most "
                  "LOOM_KERNEL_MEMORY_MB). Empty: LOOM_KERNEL_MEMORY_MB.")
    node_max_procs = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Processes and threads a kernel may run, for nodes that set no max_procs (at most "
                  "LOOM_KERNEL_MAX_PROCS). Empty: LOOM_KERNEL_MAX_PROCS.")
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


class Connection(TenantOwned):
    name = models.CharField(max_length=63, validators=[connection_name_validator])
    kind = models.CharField(max_length=20, choices=ConnectionKind.choices, default=ConnectionKind.GENERIC)
    description = models.CharField(max_length=500, blank=True, default="")
    host = models.CharField(max_length=255, blank=True, default="")
    port = models.PositiveIntegerField(null=True, blank=True)
    login = models.CharField(max_length=255, blank=True, default="")
    schema = models.CharField(max_length=255, blank=True, default="")
    extra = models.JSONField(default=dict, blank=True)
    # Fernet token of the secret fields (tenancy.kinds): JSON {"secret": ..., "extra": {key: ...}}, or
    # the bare password as written before secret extra keys existed. Never serialized; decrypted
    # only where a notebook runs or Airflow's connections are written.
    secret_encrypted = models.BinaryField(default=b"", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="unique_connection_name")]

    def __str__(self):
        return f"{self.tenant.slug}/{self.name}"

    def _secrets(self) -> dict:
        """{"secret": str, "extra": {key: str}}, decrypted (cached until set_secrets)."""
        if "_decrypted" not in self.__dict__:
            found = {"secret": "", "extra": {}}
            if self.secret_encrypted:
                text = decrypt(bytes(self.secret_encrypted))
                try:
                    stored = json.loads(text)
                except ValueError:
                    stored = None
                if isinstance(stored, dict) and stored.get("loom_secrets") == 1:
                    found = {"secret": stored["secret"], "extra": stored["extra"]}
                else:
                    found["secret"] = text  # written before the JSON form
            self.__dict__["_decrypted"] = found
        return self.__dict__["_decrypted"]

    def set_secrets(self, *, secret: str, extra: dict[str, str]) -> None:
        """Encrypt the password and the secret keys of `extra` together (nothing stored when both are empty)."""
        extra = {k: v for k, v in extra.items() if v}
        bundle = {"loom_secrets": 1, "secret": secret or "", "extra": extra}
        self.secret_encrypted = encrypt(json.dumps(bundle)) if secret or extra else b""
        self.__dict__["_decrypted"] = {"secret": bundle["secret"], "extra": extra}

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted) and bool(self.get_secret())

    def get_secret(self) -> str:
        return self._secrets()["secret"]

    def get_secret_extra(self) -> dict[str, str]:
        """The secret keys of `extra` (tenancy.kinds), decrypted."""
        return dict(self._secrets()["extra"])

    def secrets_set(self) -> dict[str, bool]:
        """Which secret fields of the connection's kind hold a value, as the API names them."""
        from_kind = {f"extra.{k}": False for k in secret_extra_keys(self.kind)}
        stored = {f"extra.{k}": True for k in self.get_secret_extra()}
        return {"secret": bool(self.get_secret())} | from_kind | stored

    def runtime_extra(self) -> dict:
        """`extra` with its secret keys back in: what the notebook's kernel and Airflow get."""
        return {**(self.extra or {}), **self.get_secret_extra()}

    def secret_values(self) -> list[str]:
        """Every secret value of the connection, to scrub from what a notebook leaves behind."""
        return [v for v in (self.get_secret(), *self.get_secret_extra().values()) if v]
