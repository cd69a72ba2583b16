"""Workflows' part in other apps' signals; connected in WorkflowsConfig.ready()."""
from django.dispatch import receiver

from catalog.models import Notebook
from catalog.signals import notebook_users
from tenancy.models import Connection
from tenancy.signals import connection_users
from workflows.selectors import notebook_usage, workflow_names_using_connections


@receiver(notebook_users, sender=Notebook)
def workflows_using_notebook(sender, *, notebook: Notebook, **kwargs) -> list[dict]:
    """The workflows whose versions run the notebook; it is in use while a latest version does."""
    return notebook_usage(tenant=notebook.tenant, notebook_name=notebook.name)


@receiver(connection_users, sender=Connection)
def workflows_using_connections(sender, *, tenant, names, **kwargs) -> dict[str, list[str]]:
    """A connection a node of a workflow's latest version names is in use."""
    return workflow_names_using_connections(tenant=tenant, names=names)
