"""Alerts take part in what runs and workflows do through their signals: a finished run makes its
deliveries; a workflow's validation asks which channels the tenant has."""
from django.dispatch import receiver

from alerts.models import Channel
from alerts.services import deliveries_create
from runs.signals import run_finished
from workflows.signals import channel_names


@receiver(run_finished)
def _run_finished(sender, run, **kwargs):
    deliveries_create(run=run)


@receiver(channel_names)
def _channel_names(sender, tenant_id, **kwargs):
    return list(Channel.objects.filter(tenant_id=tenant_id).values_list("name", flat=True))
