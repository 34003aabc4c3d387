"""python manage.py import_csv KIND FILE — all or nothing, every bad row reported."""

import sys

from django.core.management.base import BaseCommand, CommandError

from config.intake import IMPORT_KINDS, ImportFailed, run_import


class Command(BaseCommand):
    help = "Import a CSV (comma or semicolon, UTF-8) or XLSX file. Kinds: " + ", ".join(IMPORT_KINDS)

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORT_KINDS))
        parser.add_argument("file")

    def handle(self, *args, kind, file, **options):
        try:
            result = run_import(kind, file)
        except FileNotFoundError:
            raise CommandError(f"File not found: {file}") from None
        except ImportFailed as exc:
            for error in exc.errors:
                sys.stderr.write(f"{file}: {error}\n")
            if exc.total > len(exc.errors):
                sys.stderr.write(f"... and {exc.total - len(exc.errors)} more.\n")
            raise CommandError(
                f"{exc.total} error(s); nothing was imported. Fix the rows above and import again."
            ) from None
        self.stdout.write(
            f"Imported {result.rows} {kind} rows ({result.created} new, {result.updated} updated, "
            f"{result.unchanged} unchanged)."
            + (f" Periods: {', '.join(map(str, result.periods))}." if result.periods else "")
        )
