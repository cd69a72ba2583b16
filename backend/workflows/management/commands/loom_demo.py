from django.core.management.base import BaseCommand

from workflows.demo import DEMO_PASSWORD, DEMO_USERS, demo_setup


class Command(BaseCommand):
    help = "Create the demo tenant, its users, the shipped notebooks and an example workflow (idempotent)."

    def handle(self, *args, **options):
        tenant = demo_setup()
        users = ", ".join(f"{u} ({r})" for u, r in DEMO_USERS.items())
        self.stdout.write(self.style.SUCCESS(f"Demo tenant '{tenant.slug}' ready. Users: {users}; password: {DEMO_PASSWORD}"))
