from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_prune


class Command(BaseCommand):
    help = ("Delete audit entries older than LOOM_AUDIT_RETENTION_DAYS (or --days): the retention of the "
            "audit log. Run it daily, from cron for instance.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"keep this many days (default: LOOM_AUDIT_RETENTION_DAYS, now {settings.LOOM_AUDIT_RETENTION_DAYS})")

    def handle(self, *args, days=None, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = audit_prune(days=days)
        kept = settings.LOOM_AUDIT_RETENTION_DAYS if days is None else days
        self.stdout.write(f"Deleted {deleted} audit entries older than {kept} days.")
