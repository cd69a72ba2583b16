"""Prometheus metrics of a Loom installation, at /metrics of the web server.

Every value here is computed from shared state when Prometheus scrapes: run and node-run
counts and node durations from the database, the queue depth from the broker, the mirror's lag
from its lease. That is deliberate. Node runs happen in worker processes (often on other
machines) and gunicorn runs several web processes: counters kept in process memory, or in
prometheus_client's multiprocess directory, would each see a slice. The database sees all, so
any web process answers the same, and no multiprocess directory is needed. The one in-memory
figure, the kernel pool of a worker, exists only inside that worker: each worker serves it
itself on LOOM_WORKER_METRICS_PORT (runs.worker).

A run or node run deleted with its workflow leaves the counts, so the histogram can go down;
Prometheus's rate() treats that as a counter reset.
"""
import logging
from datetime import timedelta

from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

log = logging.getLogger(__name__)
# Seconds; notebooks run from under a second (a pre-started kernel) to hours.
DURATION_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600)


class LoomCollector(Collector):
    def collect(self):
        yield from _runs()
        yield from _node_runs()
        yield _node_durations()
        queue = _queue_depth()
        if queue is not None:
            yield queue
        lag = _mirror_lag()
        if lag is not None:
            yield lag


def registry() -> CollectorRegistry:
    """A registry of Loom's collector alone (not the process's default one: its process and
    Python figures describe one gunicorn process of several, chosen by chance per scrape)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(LoomCollector())
    return reg


def _runs():
    from runs.models import Run

    gauge = GaugeMetricFamily("loom_runs", "Runs by engine and status (all tenants).", labels=["engine", "status"])
    for row in Run.objects.order_by().values("engine", "status").annotate(n=Count("id")):
        gauge.add_metric([row["engine"], row["status"]], row["n"])
    yield gauge


def _node_runs():
    from runs.models import NodeRun

    gauge = GaugeMetricFamily("loom_node_runs", "Node runs by status (a fanned-out node: its summary row and each item).",
                              labels=["status"])
    for row in NodeRun.objects.order_by().values("status").annotate(n=Count("id")):
        gauge.add_metric([row["status"]], row["n"])
    yield gauge


def _node_durations():
    """Finished node runs (items of a fan-out, not its summary row) by how long they ran, by status."""
    from runs.models import FINISHED, NodeRun

    duration = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    buckets = {f"le_{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=b))) for i, b in enumerate(DURATION_BUCKETS)}
    items = NodeRun.objects.filter(run=OuterRef("run"), node=OuterRef("node"), map_index__isnull=False)
    rows = (NodeRun.objects.order_by()
            .filter(status__in=FINISHED, started_at__isnull=False, ended_at__isnull=False)
            .exclude(Q(map_index=None) & Exists(items)))
    family = HistogramMetricFamily("loom_node_run_duration_seconds", "How long finished node runs ran, start to end.",
                                   labels=["status"])
    for row in rows.annotate(duration=duration).values("status").annotate(total=Count("id"), sum=Sum("duration"), **buckets):
        cumulative = [(str(float(b)), row[f"le_{i}"]) for i, b in enumerate(DURATION_BUCKETS)] + [("+Inf", row["total"])]
        family.add_metric([row["status"]], cumulative, (row["sum"] or timedelta()).total_seconds())
    return family


def _queue_depth():
    """Messages waiting in the local engine's queue (the broker's count; None if it cannot be asked)."""
    from loom.celery import app

    queue = app.conf.task_default_queue  # LOOM_QUEUE
    try:
        with app.connection_for_read(transport_options={"socket_connect_timeout": 2, "socket_timeout": 2}) as conn:
            # Not passive: on Redis an empty queue has no key, and a passive declare would say "no queue".
            _, messages, _ = conn.default_channel.queue_declare(queue=queue, auto_delete=False)
    except Exception as error:  # noqa: BLE001 - a broker outage shows on /readyz; the rest still scrapes
        log.warning("queue depth unavailable: %s", error)
        return None
    gauge = GaugeMetricFamily("loom_queue_messages", "Messages waiting in the local engine's broker queue.", labels=["queue"])
    gauge.add_metric([queue], messages)
    return gauge


def _mirror_lag():
    """Seconds since a worker last took its turn at mirroring Airflow (None without Airflow, or
    before the first turn). It grows when no worker mirrors; an unreachable Airflow shows on /readyz."""
    from deployments.client import airflow_config_problem
    from runs.engines.airflow.mirror import POLL_LEASE, poll_lease_ttl
    from runs.models import Lease

    if airflow_config_problem():
        return None
    lease = Lease.objects.filter(name=POLL_LEASE).first()
    if lease is None:
        return None
    lag = (timezone.now() - (lease.expires_at - poll_lease_ttl())).total_seconds()
    return GaugeMetricFamily("loom_airflow_mirror_lag_seconds", "Seconds since Airflow's runs were last mirrored into Loom.",
                             value=max(lag, 0.0))
