"""The platform admin's writes that reach across apps: (de)activating a tenant stops what of it runs."""
import logging

from django.db import transaction

from loom.errors import Unavailable
from runs.models import ACTIVE, Run
from runs.services import run_cancel
from schedules.backfills import backfill_cancel
from schedules.models import Backfill, BackfillStatus
from tenancy import services as tenancy_services
from tenancy.models import Tenant

log = logging.getLogger(__name__)


def tenant_activate(*, tenant: Tenant, active: bool) -> Tenant:
    """Activate a tenant, or deactivate it and stop everything of it: its schedules stand still
    (the scheduler and Airflow's DAG pause read is_active), its running backfills are cancelled
    (their unstarted dates never run) and its active runs are cancelled on their engine. Each
    cancel is in the audit log. The tenant is marked first, so nothing new starts meanwhile
    (tenancy.services.tenant_active_check); a backfill Airflow cannot be told of is left running
    and logged, and the platform admin can deactivate again once Airflow answers."""
    with transaction.atomic():
        tenant = tenancy_services.tenant_activate(tenant=tenant, active=active)
    if active:
        return tenant
    for backfill in Backfill.objects.filter(tenant=tenant, status=BackfillStatus.RUNNING):
        try:
            backfill_cancel(backfill=backfill)
        except Unavailable:
            log.exception("could not cancel backfill %s of deactivated tenant %s in Airflow", backfill.pk, tenant.slug)
    for run in Run.objects.filter(tenant=tenant, status__in=ACTIVE):
        run_cancel(run=run)
    return tenant
