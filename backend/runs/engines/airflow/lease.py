"""Leases: a job that one worker at a time should do (mirroring Airflow) goes to the holder."""
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from runs.models import Lease


def lease_take(name: str, *, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder`, unless another holder's is still valid."""
    now = timezone.now()
    if not Lease.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                Lease.objects.create(name=name, holder=holder, expires_at=now + ttl)
            return True
        except IntegrityError:
            pass
    mine = Lease.objects.filter(name=name, holder=holder) | Lease.objects.filter(name=name, expires_at__lt=now)
    return mine.update(holder=holder, expires_at=now + ttl) == 1
