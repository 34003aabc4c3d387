"""python manage.py report KIND --period P [--format json|csv|table]."""

import csv
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from config import reports
from config.export import export_text


class Command(BaseCommand):
    help = "Print a report: pyramid, migration, retention, concentration, profit, segments, scenario, actions."

    def add_arguments(self, parser):
        parser.add_argument("kind")
        parser.add_argument("--period", help="Period name; the latest when omitted.")
        parser.add_argument("--name", help="Scenario name (report scenario).")
        parser.add_argument("--format", choices=["json", "csv", "table"], default="json")

    def handle(self, *args, kind, period=None, name=None, format="json", **options):
        kinds = reports.kinds()
        if kind not in kinds:
            raise CommandError(f"Unknown report '{kind}'. Choose one of: {', '.join(kinds)}.")
        report = kinds[kind]
        kwargs = {"period": period}
        if kind == "scenario":
            kwargs["name"] = name
        try:
            data = report.build(**kwargs)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if format == "json":
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str))
            return
        rows = report.rows(data)
        if not rows:
            self.stdout.write("(no rows)")
            return
        columns = list(rows[0].keys())
        if format == "csv":
            writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: export_text(v) for k, v in row.items()} for row in rows)  # no live formulas
            return
        text = [[str(c) for c in columns]] + [
            ["" if r.get(c) is None else str(r.get(c)) for c in columns] for r in rows
        ]
        widths = [max(len(line[i]) for line in text) for i in range(len(columns))]
        for i, line in enumerate(text):
            self.stdout.write("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
            if i == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
