from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.services import notebooks_sync
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Load every .ipynb of a folder (Loom's notebooks/ by default) into a tenant's catalog."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("--dir", type=Path, default=None, help="folder of notebooks")

    def handle(self, *args, tenant, dir, **options):
        try:
            tenant_obj = Tenant.objects.get(slug=tenant)
        except Tenant.DoesNotExist:
            raise CommandError(f"No tenant '{tenant}'.")
        for version, created in notebooks_sync(tenant=tenant_obj, directory=dir):
            state = f"new version {version.number}" if created else "unchanged"
            self.stdout.write(f"{version.notebook.name}: {state}")
