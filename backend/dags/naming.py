"""How Loom names things in Airflow, so that tenants never collide there. No Django here.

Tenant slugs are `[a-z][a-z0-9-]*` (no '_'), so the double underscore after the tenant
always ends it: `loom__acme__db` can only be tenant `acme`'s connection `db`. The renderer,
the deploy step and the Airflow engine all name things through these functions.
"""
PREFIX = "loom"
# Suffix of the task that resolves a fanned-out node's list; node ids cannot contain '-'.
ITEMS_SUFFIX = "-items"
# Suffix of the task after a fanned-out node that accepts failed items: it checks the allowance,
# and the node's downstream tasks follow it instead of the mapped task.
CHECK_SUFFIX = "-check"


def airflow_dag_id(*, tenant: str, workflow_id: int) -> str:
    """`loom__<tenant>__<workflow id>`: stable across renames and versions of the workflow."""
    return f"{PREFIX}__{tenant}__{workflow_id}"


def dag_id_tenant(dag_id: str) -> str:
    """The tenant of a DAG id made by `airflow_dag_id`."""
    return dag_id.split("__")[1]


def airflow_conn_id(*, tenant: str, connection: str) -> str:
    """`loom__<tenant>__<connection name>`: the Airflow connection a node's connection maps to."""
    return f"{PREFIX}__{tenant}__{connection}"


def airflow_pool(*, tenant: str, pool: str | None = None) -> str:
    """The tenant's pool `loom__<tenant>` (sized by its quota), or `loom__<tenant>__<pool>`."""
    return f"{PREFIX}__{tenant}" + (f"__{pool}" if pool else "")


def notebook_relpath(*, tenant: str, sha256: str, name: str) -> str:
    """Where a pinned notebook lives under the notebooks base directory: content-addressed,
    so versions never overwrite each other and a deploy can copy files idempotently."""
    return f"{tenant}/{sha256}/{name}"


def items_task_id(node_id: str) -> str:
    return node_id + ITEMS_SUFFIX


def check_task_id(node_id: str) -> str:
    return node_id + CHECK_SUFFIX
