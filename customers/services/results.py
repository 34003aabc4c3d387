"""What an import returns, and the progress callback it reports to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int], None] | None


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    #: rows already stored with exactly these values (re-importing a file changes nothing)
    unchanged: int = 0
    periods: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "periods": self.periods,
        }
