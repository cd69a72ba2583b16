"""Keeping Airflow's side of a tenant in step with Loom: its connections (secrets included),
its pools, its DAGs' pause (a deactivated tenant's stand still), and the Variables Loom's DAGs read."""
import json

from airflow_client import client as ac

from dags import naming
from dags.airflow_tasks import SECRET_KEYS_EXTRA
from deployments.client import AirflowError, airflow_client, paged
from deployments.models import Deployment, DeploymentStatus
from tenancy.models import Connection, Tenant

# The Airflow Variable a DAG reads its artifacts folder from when its worker has no
# LOOM_AIRFLOW_ARTIFACTS_DIR of its own (rendering.ARTIFACTS_DIR_SETTING).
ARTIFACTS_VARIABLE = "loom_artifacts_dir"

def airflow_tenant_sync(*, tenant_id: int) -> None:
    """The tenant's connections, pool and DAGs' pause in Airflow, as they are in Loom now."""
    tenant = Tenant.objects.get(pk=tenant_id)
    airflow_connections_sync(tenant=tenant)
    airflow_pools_sync(tenant=tenant)
    airflow_dags_pause_sync(tenant=tenant)


def airflow_dags_pause_sync(*, tenant: Tenant) -> None:
    """Pause the DAGs of a deactivated tenant; unpause them again, except those paused in Loom."""
    client = airflow_client()
    for deployment in Deployment.objects.filter(tenant=tenant, engine="airflow", status=DeploymentStatus.DEPLOYED):
        deployment.tenant = tenant
        client.dags.patch_dag(deployment.dag_id, ac.DAGPatchBody(is_paused=deployment.schedule_paused),
                              update_mask=["is_paused"])


def airflow_connections_sync(*, tenant: Tenant) -> None:
    """Make Airflow's connections `loom__<tenant>__*` exactly the tenant's connections, secrets
    included. This is the only place secrets leave Loom: into Airflow's connections."""
    client = airflow_client()
    prefix = naming.airflow_conn_id(tenant=tenant.slug, connection="")
    existing = {c.connection_id for c in paged(client.connections.get_connections, "connections",
                                               connection_id_prefix_pattern=prefix) if c.connection_id.startswith(prefix)}
    wanted = set()
    for conn in Connection.objects.filter(tenant=tenant):
        conn_id = naming.airflow_conn_id(tenant=tenant.slug, connection=conn.name)
        wanted.add(conn_id)
        body = ac.ConnectionBody(
            connection_id=conn_id, conn_type=conn.kind, description=conn.description or None, host=conn.host or None,
            port=conn.port, login=conn.login or None, password=conn.get_secret() or None,
            var_schema=conn.schema or None, extra=_airflow_extra(conn),
        )
        if conn_id in existing:
            client.connections.patch_connection(conn_id, body)
        else:
            client.connections.post_connection(body)
    for conn_id in existing - wanted:
        client.connections.delete_connection(conn_id)


def _airflow_extra(conn: Connection) -> str | None:
    """The connection's extra with its secret keys back in, and their names for the task to scrub."""
    extra, secret_keys = conn.runtime_extra(), sorted(conn.get_secret_extra())
    return json.dumps(extra | ({SECRET_KEYS_EXTRA: secret_keys} if secret_keys else {})) if extra else None


def airflow_pools_sync(*, tenant: Tenant) -> None:
    """The tenant's pools in Airflow, together holding its concurrency quota and no more (README,
    "Roles"): `loom__<tenant>__<pool>` with each pool's slots, `loom__<tenant>` with the rest
    (Tenant.pool_slots). A pool Loom no longer has is left with 0 slots: a DAG deployed while it
    existed runs nothing there until it is deployed again (which validation refuses until fixed)."""
    client = airflow_client()
    main = naming.airflow_pool(tenant=tenant.slug)
    wanted = {naming.airflow_pool(tenant=tenant.slug, pool=p): n for p, n in tenant.pool_slots().items()}
    existing = {p.name: p for p in paged(client.pools.get_pools, "pools", pool_name_prefix_pattern=main)
                if p.name == main or p.name.startswith(f"{main}__")}
    for name in sorted(wanted.keys() | existing.keys()):
        slots = wanted.get(name, 0)
        pool = existing.get(name)
        if pool is None:
            try:
                client.pools.post_pool(ac.PoolBody(name=name, slots=slots, description=f"Loom tenant {tenant.slug}"))
                continue
            except AirflowError as e:
                if e.status != 409:  # 409: a concurrent deploy of the same tenant created it first
                    raise
            pool = client.pools.get_pool(name)
        if pool.slots != slots:
            client.pools.patch_pool(name, ac.PoolPatchBody(pool=name, slots=slots, include_deferred=bool(pool.include_deferred)),
                                    update_mask=["slots"])


def airflow_variable_set(key: str, value: str) -> None:
    """The Airflow Variable `key` with `value` (created, or changed if it differs)."""
    client = airflow_client()
    try:
        if client.variables.get_variable(key).value == value:
            return
        client.variables.patch_variable(key, ac.VariableBody(key=key, value=value))
    except AirflowError as e:
        if e.status != 404:
            raise
        client.variables.post_variable(ac.VariableBody(key=key, value=value))
