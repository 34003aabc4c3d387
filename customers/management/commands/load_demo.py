"""Load the seeded demo data set into an empty database: customers/demo.py runs the seeders of
``settings.DEMO_SEEDERS`` (one per app, each through its own services)."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from config.accounts import demo_accounts_mark
from customers.demo import YEARS, demo_load, demo_users
from customers.models import Computation, Customer, Period
from customers.selectors import pyramid_settings_get


class Command(BaseCommand):
    help = (
        "Load the demo: a Dutch B2B wholesaler with customers, orders, costs, visits and targets over the "
        "fiscal years 2023-2025, then recompute every period. The same --seed gives the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any customer exists.")
        parser.add_argument("--customers", type=int, default=2000, help="Number of customers (default 2000).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--force-in-production",
            action="store_true",
            help="Load the demo even with DJANGO_ENV=production (a public demo server). Its users still cannot "
            "log in there unless ALLOW_DEMO_LOGINS is set.",
        )

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False) and not options["force_in_production"]:
            raise CommandError(
                "DJANGO_ENV=production: the demo data and its users (with published passwords) are not loaded "
                "into a production database. Use --force-in-production for a public demo server."
            )
        if Customer.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Customers exist already: the demo was not loaded.")
                return
            raise CommandError(
                "The database already has customers; the demo loads only into an empty database. "
                "Use --if-empty to skip quietly, or start from an empty database (manage.py flush)."
            )
        if Period.objects.filter(name__in=YEARS).exists() or Computation.objects.exists():
            raise CommandError(
                f"Periods exist for the demo years {YEARS[0]}-{YEARS[-1]} (with their cost pools, targets or "
                "figures); the demo loads only into an empty database. Start from an empty database "
                "(manage.py flush)."
            )
        if pyramid_settings_get().fiscal_year_start_month != 1:
            raise CommandError("The demo uses calendar fiscal years: set the fiscal year start month to January first.")
        if options["customers"] < 20:
            raise CommandError("--customers must be at least 20.")
        usernames = demo_users()["username"].tolist()
        existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        progress = (lambda line: self.stdout.write(line)) if options["verbosity"] >= 1 else None
        summary = demo_load(customers=options["customers"], seed=options["seed"], progress=progress)
        demo_accounts_mark(usernames=[name for name in usernames if name not in existing])
        if summary.recompute_warning:
            self.stderr.write(f"Warning: {summary.recompute_warning}")
        self.stdout.write(summary.line())
