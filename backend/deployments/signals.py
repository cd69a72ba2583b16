"""Signals of deployments, for apps that depend on it (deployments imports none of them)."""
from django.dispatch import Signal

# Sent with `workflow_id` when a workflow is undeployed, after its DAG is paused in Airflow and
# before the deployment row goes: the runs app cancels the workflow's active Airflow runs.
undeploying = Signal()
