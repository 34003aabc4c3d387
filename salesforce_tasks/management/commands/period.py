"""python manage.py period open|close|reopen YEAR [--copy-pools-from YEAR] [--roll-targets-growth PCT] [--as USER]"""

from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from salesforce_tasks.organisation.periods import year_close, year_open, year_reopen


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Open a period ahead (optionally copying cost pools and the interest rate from another period and "
        "rolling customer targets forward with a growth %), close a period (writes dated in it are refused "
        "and its figures frozen) or reopen it."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["open", "close", "reopen"])
        parser.add_argument("year", type=int, help="The period: the calendar year in which the fiscal year starts.")
        parser.add_argument(
            "--copy-pools-from", type=int, help="open: copy cost pools and interest rate of this period."
        )
        parser.add_argument(
            "--roll-targets-growth",
            help="open: roll last period's approved customer targets forward, grown by this % (e.g. 5 or 2.5).",
        )
        parser.add_argument(
            "--as", dest="username", help="Record the change as this (finance) user; default: the server operator."
        )

    def handle(self, *args, action, year, copy_pools_from=None, roll_targets_growth=None, username=None, **options):
        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"Unknown user '{username}'.")
        growth = None
        if roll_targets_growth not in (None, ""):
            try:
                growth = Decimal(roll_targets_growth.replace(",", "."))
            except InvalidOperation:
                raise CommandError(f"--roll-targets-growth: '{roll_targets_growth}' is not a percentage.") from None
        if action != "open" and (copy_pools_from or growth is not None):
            raise CommandError("--copy-pools-from and --roll-targets-growth go with 'open' only.")
        try:
            if action == "open":
                opened = year_open(
                    name=year, acting_user=user, copy_pools_from=copy_pools_from, roll_targets_growth=growth
                )
                self.stdout.write(
                    f"Period {opened.period.name} is open ({opened.period.start} – {opened.period.end}): "
                    f"{opened.pools_copied} cost pool(s) copied, {opened.targets_rolled} customer target(s) rolled."
                )
            elif action == "close":
                period = year_close(name=year, acting_user=user)
                self.stdout.write(f"Period {period.name} is closed: writes dated in it are refused, figures frozen.")
            else:
                period = year_reopen(name=year, acting_user=user)
                self.stdout.write(f"Period {period.name} is open again.")
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
