from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from tenancy.models import TenantOwned

notebook_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.ipynb$",
    "A notebook name is a file name ending in .ipynb (letters, digits, '_', '-', '.').",
)


class Notebook(TenantOwned):
    """A notebook in a tenant's catalog; workflows refer to it by name."""

    name = models.CharField(max_length=128, validators=[notebook_name_validator])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="unique_notebook_name")]

    def __str__(self):
        return self.name

    @property
    def latest(self) -> "NotebookVersion":
        return self.versions.order_by("-number").first()


class NotebookVersion(models.Model):
    """Immutable, content-addressed content of a notebook."""

    notebook = models.ForeignKey(Notebook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.TextField()
    parameters = models.JSONField(default=list)
    outputs = models.JSONField(default=list)  # discovered: [{"name", "type"}] (catalog.inspection.outputs_infer)
    kernel_name = models.CharField(max_length=100)
    language = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["notebook", "-number"]
        constraints = [models.UniqueConstraint(fields=["notebook", "number"], name="unique_notebook_version")]
