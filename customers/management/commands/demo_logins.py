"""Print the demo logins: only demo users whose password is still the demo password."""

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from customers.demo import demo_users


class Command(BaseCommand):
    help = "Print the demo logins (username, password, role, what they see); never another user's password."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force-in-production", action="store_true", help="Print them even with DJANGO_ENV=production."
        )

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False) and not options["force_in_production"]:
            raise CommandError(
                "DJANGO_ENV=production: demo logins are not printed (and cannot log in unless ALLOW_DEMO_LOGINS "
                "is set). Use --force-in-production on a public demo server."
            )
        logins = demo_users()
        stored = dict(
            User.objects.filter(username__in=logins["username"].tolist(), is_active=True).values_list(
                "username", "password"
            )
        )
        checked: dict[tuple[str, str], bool] = {}
        rows = []
        for login in logins.itertuples(index=False):
            encoded = stored.get(login.username)
            if encoded is None:
                continue
            key = (encoded, login.password)
            if key not in checked:  # the reps share one hash: check it once
                checked[key] = check_password(login.password, encoded)
            if checked[key]:
                rows.append((login.username, login.password, login.role or "superuser", login.sees))
        if not rows:
            self.stdout.write("No demo logins (run `manage.py load_demo` on an empty database first).")
            return
        header = ("Username", "Password", "Role", "Sees")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        self.stdout.write("Demo logins:")
        for row in [header, *rows]:
            self.stdout.write(
                "  " + "  ".join(v.ljust(w) for v, w in zip(row[:3], widths, strict=True)) + "  " + row[3]
            )
