"""python manage.py recompute [--period P] — recompute pyramid, profit and values now."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.eventbus import drain, request_stage
from customers.models import Period


class Command(BaseCommand):
    help = "Recompute every stage (pyramid, profit, value, sales force) of one period or all periods."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="Period name (fiscal year, e.g. 2024); all periods when omitted.")

    def handle(self, *args, period=None, **options):
        periods = Period.objects.order_by("name")
        if period:
            periods = periods.filter(name=period)
            if not periods.exists():
                raise CommandError(f"Unknown period '{period}'.")
        ids = list(periods.values_list("id", flat=True))
        if not ids:
            self.stdout.write("No periods yet: import orders first.")
            return
        started = time.monotonic()
        with transaction.atomic():
            request_stage(period_ids=ids, stage="pyramid")
        drain(timeout=3600)
        names = ", ".join(str(n) for n in periods.values_list("name", flat=True))
        self.stdout.write(f"Recomputed {names} in {time.monotonic() - started:.1f} s.")
