"""Registry of report kinds: the same builders serve the report command, the API and pages.

Each app registers its kinds in its ``reports.py``. A builder takes keyword arguments
(``period`` name and kind-specific options) and returns a JSON-ready dict; ``rows`` builders
return the table form used for CSV and Excel.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportKind:
    name: str
    build: Callable[..., dict]
    rows: Callable[[dict], list[dict]]
    needs_period: bool = True


_kinds: dict[str, ReportKind] = {}


def register(kind: ReportKind) -> None:
    _kinds[kind.name] = kind


def kinds() -> dict[str, ReportKind]:
    return dict(sorted(_kinds.items()))


def get(name: str) -> ReportKind:
    return _kinds[name]
