"""Workflows' part in other apps' signals; connected in WorkflowsConfig.ready()."""
from django.dispatch import receiver

from catalog.models import Notebook
from catalog.signals import notebook_users
from tenancy.models import Connection
from tenancy.signals import connection_users
from workflows.selectors import workflow_names_using_connections, workflow_names_using_notebook


@receiver(notebook_users, sender=Notebook)
def workflows_using_notebook(sender, *, notebook: Notebook, **kwargs) -> list[str]:
    """A notebook the latest version of a workflow runs is in use."""
    return workflow_names_using_notebook(tenant=notebook.tenant, notebook_name=notebook.name)


@receiver(connection_users, sender=Connection)
def workflows_using_connections(sender, *, tenant, names, **kwargs) -> dict[str, list[str]]:
    """A connection a node of a workflow's latest version names is in use."""
    return workflow_names_using_connections(tenant=tenant, names=names)
