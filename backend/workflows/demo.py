"""The demo tenant `make run` starts with: users, the shipped notebooks and one workflow."""
from django.contrib.auth import get_user_model, password_validation
from django.db import transaction

from catalog.services import notebooks_sync
from tenancy.models import Membership, Role, Tenant
from workflows.models import Workflow
from workflows.services import workflow_create

DEMO_USERS = {"admin": Role.ADMIN, "editor": Role.EDITOR, "viewer": Role.VIEWER}
DEMO_PASSWORD = "loom-demo"

CHURN_GRAPH = {
    "name": "Churn per account",
    "description": ("Generate the day's customer table of a few hundred accounts, train a scikit-learn churn model per "
                    "account (one fanned-out item each, a ROC plot in each executed notebook), rank the accounts."),
    "schedule": "@daily",
    "start_date": "2026-11-01",
    "catchup": False,
    "tags": ["demo"],
    "parameters": [
        {"name": "run_date", "type": "str", "default": "2026-11-01", "help": "The day to process"},
        {"name": "n_accounts", "type": "int", "default": 200, "help": "How many accounts ingest generates"},
        {"name": "accounts", "type": "list", "default": [], "help": "Only these accounts (empty: all generated ones)"},
    ],
    "nodes": [
        {"id": "ingest", "notebook": "ingest.ipynb", "parameters": {"source": "warehouse"},
         "outputs": [{"name": "dataset_path", "type": "str"}, {"name": "row_count", "type": "int"},
                     {"name": "accounts", "type": "list"}],
         "retries": 1, "retry_delay_s": 5, "timeout_s": 600, "position": {"x": 40, "y": 120}},
        {"id": "train", "notebook": "train.ipynb", "map_over": "ingest.accounts", "map_parameter": "account",
         "max_failed_ratio": 0.02, "outputs": [{"name": "auc", "type": "float"}, {"name": "customers", "type": "int"},
                                               {"name": "churn_rate", "type": "float"}],
         "timeout_s": 600, "position": {"x": 400, "y": 120}},
        {"id": "report", "notebook": "report.ipynb", "parameters": {"threshold": 0.75},
         "outputs": ["best_account", {"name": "mean_auc", "type": "float"}], "position": {"x": 760, "y": 120}},
    ],
    "edges": [
        {"source": "ingest", "target": "train", "bind": {"dataset_path": "input_path"}},
        {"source": "train", "target": "report", "bind": {"auc": "aucs", "map_items": "accounts"}},
    ],
}


@transaction.atomic
def demo_setup() -> Tenant:
    """Create (or refresh) the demo tenant. Safe to run on every start."""
    User = get_user_model()
    tenant, _ = Tenant.objects.get_or_create(slug="demo", defaults={"name": "Demo team"})
    for username, role in DEMO_USERS.items():
        # The demo's admin is also a platform admin (loom.roles), so the demo shows every page.
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": role == Role.ADMIN,
                                                                                 "is_superuser": role == Role.ADMIN})
        if created:
            # The demo's password is published in the README; it still passes the validators.
            password_validation.validate_password(DEMO_PASSWORD, user)
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": role})
    notebooks_sync(tenant=tenant)
    if not Workflow.objects.filter(tenant=tenant, name=CHURN_GRAPH["name"]).exists():
        workflow_create(tenant=tenant, graph=CHURN_GRAPH)
    return tenant
