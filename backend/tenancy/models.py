import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from tenancy.crypto import decrypt, encrypt
from tenancy.kinds import ConnectionKind, secret_extra_keys

__all__ = ["Connection", "ConnectionKind", "ConnectionTest", "Invitation", "Membership", "Role", "Tenant", "TenantOwned"]

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{0,39}$", "Use 1-40 lowercase letters, digits or '-', starting with a letter."
)
# Connection names become part of Airflow connection ids and environment variable names.
connection_name_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}$", "Use 1-63 lowercase letters, digits or '_', starting with a letter."
)

# Pool and queue names reach Airflow (pool loom__<tenant>__<pool>, a Celery queue name).
POOL_NAME = RegexValidator(r"^[a-z][a-z0-9_-]{0,39}$", "Use 1-40 lowercase letters, digits, '_' or '-', starting with a letter.")
QUEUE_NAME = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "Use 1-64 letters, digits, '_', '.' or '-'.")


class Role(models.TextChoices):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}

# Limits and fairness settings of a tenant: the platform admin's (loom.roles), read-only for
# tenant admins. A new limit field of Tenant is one more name here; the API follows.
PLATFORM_FIELDS = ("concurrency_quota", "pools", "allowed_queues", "node_timeout_s", "artifacts_quota_mb",
                   "node_memory_mb", "node_max_procs")


class Tenant(models.Model):
    slug = models.CharField(max_length=40, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=1000, blank=True, default="")
    # Deactivated (platform admins): its members can no longer open it (tenancy.selectors.membership_get);
    # nothing is deleted, and a platform admin can activate it again.
    is_active = models.BooleanField(default=True)
    concurrency_quota = models.PositiveIntegerField(
        default=8, help_text="How many notebooks of this tenant may run at once (also its Airflow pool size)."
    )
    # Limits (docs/sandbox.md, "Limits"): empty means the platform's setting; never above the platform maximum.
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
    # Counts notebook deletes: a workflow version's kept validation that saw this count knows its
    # pinned notebook versions are all still there without asking (workflows.selectors).
    notebooks_deleted = models.PositiveIntegerField(default=0, editable=False)
    # Pools subdivide the quota (README, "Roles"): each named pool has its slots, nodes without a
    # pool share what is left, so the tenant never runs more than concurrency_quota notebooks.
    pools = models.JSONField(
        default=dict, blank=True,
        help_text="{pool name: slots}: slots of the quota reserved for the nodes naming that pool. Together "
                  "at most concurrency_quota - 1, so nodes without a pool keep at least one slot.")
    allowed_queues = models.JSONField(
        default=list, blank=True,
        help_text="The Airflow queues this tenant's nodes may name; empty: only the default queue.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug

    def clean(self):
        errors = {}
        pools, queues = self.pools, self.allowed_queues
        if not isinstance(pools, dict):
            errors["pools"] = ["Give pools as {name: slots}."]
        else:
            for name, slots in pools.items():
                try:
                    POOL_NAME(name)
                except ValidationError as e:
                    errors.setdefault("pools", []).append(f"Pool {name!r}: {e.messages[0]}")
                if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
                    errors.setdefault("pools", []).append(f"Pool {name!r} needs a whole number of slots, at least 1.")
            total = sum(s for s in pools.values() if isinstance(s, int))
            if "pools" not in errors and pools and total > self.concurrency_quota - 1:
                errors["pools"] = [f"Pools take {total} slots; with a concurrency_quota of {self.concurrency_quota} "
                                   f"they may take at most {self.concurrency_quota - 1} (nodes without a pool keep one)."]
        if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
            errors["allowed_queues"] = ["Give allowed_queues as a list of queue names."]
        else:
            for queue in queues:
                try:
                    QUEUE_NAME(queue)
                except ValidationError as e:
                    errors.setdefault("allowed_queues", []).append(f"Queue {queue!r}: {e.messages[0]}")
        if errors:
            raise ValidationError(errors)

    def pool_slots(self) -> dict[str | None, int]:
        """Slots per pool: each named pool's own, and None (nodes without a known pool) the rest."""
        named = dict(self.pools or {})
        return {None: max(0, self.concurrency_quota - sum(named.values())), **named}

    def pool_of(self, pool: str | None) -> str | None:
        """The pool a node naming `pool` runs in: that pool if the tenant has it, else the shared rest."""
        return pool if pool and pool in (self.pools or {}) else None


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


class Invitation(TenantOwned):
    """An email address asked to join the tenant with a role. The token is mailed, never stored:
    only its SHA-256, so the table does not hold usable links."""

    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-created_at"]


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


class ConnectionTest(TenantOwned):
    """One "Test connection": asked by an admin, tried by a worker from inside a notebook sandbox
    (tenancy.checks). The message never holds a secret of the connection (scrubbed)."""

    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for a worker
        OK = "ok"
        FAILED = "failed"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="tests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
