"""Load the seeded demo data set (see customers/demo.py) into an empty database."""

from django.core.management.base import BaseCommand, CommandError

from accounting.models import CostPool
from customers.demo import YEARS, demo_load
from customers.models import Customer
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

    def handle(self, *args, **options):
        if Customer.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Customers exist already: the demo was not loaded.")
                return
            raise CommandError(
                "The database already has customers; the demo loads only into an empty database. "
                "Use --if-empty to skip quietly, or start from an empty database (manage.py flush)."
            )
        if CostPool.objects.filter(period__name__in=YEARS).exists():
            raise CommandError(
                f"Cost pools exist for the demo years {YEARS[0]}-{YEARS[-1]}; the demo loads only into an empty "
                "database. Start from an empty database (manage.py flush)."
            )
        if pyramid_settings_get().fiscal_year_start_month != 1:
            raise CommandError("The demo uses calendar fiscal years: set the fiscal year start month to January first.")
        if options["customers"] < 20:
            raise CommandError("--customers must be at least 20.")
        summary = demo_load(customers=options["customers"], seed=options["seed"])
        if summary.recompute_warning:
            self.stderr.write(f"Warning: {summary.recompute_warning}")
        self.stdout.write(summary.line())
