from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from audit.services import RetentionTooShort, audit_prune


class Command(BaseCommand):
    help = ("Delete audit entries older than LOOM_AUDIT_RETENTION_DAYS (or --days, which may keep more, never "
            "fewer): the retention of the audit log. Run it daily, from cron for instance.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"keep this many days, at least LOOM_AUDIT_RETENTION_DAYS (now {settings.LOOM_AUDIT_RETENTION_DAYS})")

    def handle(self, *args, days=None, **options):
        try:
            deleted = audit_prune(days=days)
        except RetentionTooShort as e:
            raise CommandError(str(e)) from e
        except IntegrityError as e:  # PostgreSQL's trigger holds an older (longer) retention
            raise CommandError("PostgreSQL refused: its trigger still keeps entries longer than "
                               "LOOM_AUDIT_RETENTION_DAYS says. Run manage.py migrate to give it the new retention.") from e
        kept = settings.LOOM_AUDIT_RETENTION_DAYS if days is None else days
        self.stdout.write(f"Deleted {deleted} audit entries older than {kept} days.")
