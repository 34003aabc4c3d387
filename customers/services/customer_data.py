"""Writes of the customers themselves: the customers import and a customer's status."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from config.eventbus import publish
from config.intake import ErrorList, Layout, parse_date, read_chunks, too_long

from .. import policy
from ..events import CustomersChanged
from ..models import Customer, CustomerStatus, Period
from ..organisation import pair_codes, portfolio_assignments_sync
from .results import ImportResult, Progress

CUSTOMER_LAYOUT = Layout(("external_id", "name"), ("status", "industry", "city", "owner", "since"))


def _validate_customers_chunk(chunk: pd.DataFrame, errors: ErrorList, seen: dict, pairs: dict) -> pd.DataFrame:
    errors.add_mask(chunk, chunk["external_id"] == "", "external_id", gettext("missing customer id"))
    errors.add_mask(
        chunk, too_long(chunk["external_id"], 64), "external_id", gettext("longer than %(n)s characters") % {"n": 64}
    )
    errors.add_mask(chunk, chunk["name"] == "", "name", gettext("missing name"))
    errors.add_mask(chunk, too_long(chunk["name"], 200), "name", gettext("longer than %(n)s characters") % {"n": 200})
    status = chunk["status"].str.lower().replace("", CustomerStatus.CUSTOMER)
    errors.add_mask(
        chunk,
        ~status.isin(CustomerStatus.values),
        "status",
        gettext("unknown status; use suspect, prospect or customer"),
    )
    for col in ("industry", "city"):
        errors.add_mask(chunk, too_long(chunk[col], 100), col, gettext("longer than %(n)s characters") % {"n": 100})
    errors.add_mask(
        chunk,
        (chunk["owner"] != "") & ~chunk["owner"].isin(pairs.keys()),
        "owner",
        gettext("unknown rep pair code; create the pair first or leave the column empty"),
    )
    since, bad_since = parse_date(chunk["since"], required=False)
    errors.add_mask(chunk, bad_since, "since", gettext("not a date; write it as YYYY-MM-DD or leave it empty"))
    dup = chunk["external_id"].duplicated(keep=False) | chunk["external_id"].isin(seen.keys())
    dup &= chunk["external_id"] != ""
    errors.add_mask(chunk, dup, "external_id", gettext("the customer id appears more than once in the file"))
    for ext, row in zip(chunk["external_id"], chunk["_row"], strict=True):
        seen.setdefault(ext, row)
    return chunk.assign(status=status, since_parsed=since)


def _check_customers_scope(chunk: pd.DataFrame, errors: ErrorList, scope: policy.ImportScope) -> None:
    """A scoped importer (a manager) changes only their teams' customers and assigns only their pairs."""
    if scope.everything:
        return
    ids = list(chunk["external_id"])
    existing = dict(Customer.objects.filter(external_id__in=ids).values_list("external_id", "id"))
    foreign = {ext for ext, pk in existing.items() if pk not in scope.customer_ids}
    errors.add_mask(
        chunk,
        chunk["external_id"].isin(foreign),
        "external_id",
        gettext("this customer is not one of your teams' customers; you may not change it"),
    )
    mine = ", ".join(sorted(scope.pair_codes)) or "-"
    errors.add_mask(
        chunk,
        (chunk["owner"] != "") & ~chunk["owner"].isin(scope.pair_codes),
        "owner",
        gettext("you may assign customers only to the pairs of your teams: %(pairs)s") % {"pairs": mine},
    )
    errors.add_mask(
        chunk,
        (chunk["owner"] == "") & ~chunk["external_id"].isin(existing.keys()) & (chunk["external_id"] != ""),
        "owner",
        gettext("a new customer needs an owner: one of the pairs of your teams (%(pairs)s)") % {"pairs": mine},
    )


def _known_since(date) -> dt.datetime:
    """The ``since`` column (a date, or NaT) as the customer's ``created_at`` (start of that day)."""
    if pd.isna(date):
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(date.date(), dt.time.min))


def _customers_compare(chunk: pd.DataFrame, pairs: dict) -> tuple[pd.Series, pd.Series]:
    """Masks over the chunk: new customers, and rows equal to what is stored (nothing to write).

    An empty ``owner`` or ``since`` keeps the stored value, so it never counts as a change."""
    fields = ("external_id", "name", "status", "industry", "city", "pair_id", "created_at")
    stored = pd.DataFrame.from_records(
        list(Customer.objects.filter(external_id__in=list(chunk["external_id"])).values_list(*fields)),
        columns=list(fields),
    ).set_index("external_id")
    row = stored.reindex(chunk["external_id"])
    row.index = chunk.index
    new = row["name"].isna()
    same = ~new
    for col in ("name", "status", "industry", "city"):
        same &= row[col] == chunk[col]
    owner = chunk["owner"].map(pairs)
    same &= (chunk["owner"] == "") | (row["pair_id"] == owner)
    stored_since = pd.to_datetime(row["created_at"], utc=True).dt.tz_convert(timezone.get_current_timezone())
    given = chunk["since_parsed"].notna()
    same &= ~given | (stored_since.dt.tz_localize(None) == chunk["since_parsed"])
    return new, same.fillna(False).astype(bool)


def customers_import(*, path: str | Path, acting_user=None, progress: Progress = None) -> ImportResult:
    """Upsert customers by external_id from a CSV/XLSX file; all or nothing."""
    scope = policy.import_scope(acting_user, "customers")
    pairs = pair_codes()
    errors, seen = ErrorList(), {}
    for chunk in read_chunks(path, CUSTOMER_LAYOUT):
        _validate_customers_chunk(chunk, errors, seen, pairs)
        _check_customers_scope(chunk, errors, scope)
    errors.raise_if_any()
    result = ImportResult("customers")
    with transaction.atomic():
        for chunk in read_chunks(path, CUSTOMER_LAYOUT):
            chunk = _validate_customers_chunk(chunk, ErrorList(), {}, pairs)
            new, same = _customers_compare(chunk, pairs)
            result.rows += len(chunk)
            result.created += int(new.sum())
            result.unchanged += int(same.sum())
            result.updated += int((~new & ~same).sum())
            chunk = chunk[~same]
            if chunk.empty:
                continue
            has_owner = chunk["owner"] != ""
            objs = [
                Customer(
                    external_id=r.external_id,
                    name=r.name,
                    status=r.status,
                    industry=r.industry,
                    city=r.city,
                    pair_id=pairs.get(r.owner),
                    created_at=_known_since(r.since_parsed),
                )
                for r in chunk.itertuples(index=False)
            ]
            update = ["name", "status", "industry", "city"] + (["pair"] if has_owner.all() else [])
            Customer.objects.bulk_create(
                objs, batch_size=2000, update_conflicts=True, unique_fields=["external_id"], update_fields=update
            )
            if has_owner.any() and not has_owner.all():
                for code, group in chunk[has_owner].groupby("owner"):
                    Customer.objects.filter(external_id__in=list(group["external_id"])).update(pair_id=pairs[code])
            since = chunk[chunk["since_parsed"].notna() & ~new[chunk.index]]
            if not since.empty:  # existing customers: 'known since' changes only where the file gives it
                ids = dict(
                    Customer.objects.filter(external_id__in=list(since["external_id"])).values_list("external_id", "id")
                )
                Customer.objects.bulk_update(
                    [
                        Customer(id=ids[e], created_at=_known_since(d))
                        for e, d in zip(since["external_id"], since["since_parsed"], strict=True)
                    ],
                    ["created_at"],
                    batch_size=2000,
                )
        if result.created or result.updated:
            portfolio_assignments_sync(acting_user=acting_user)
            period_ids = list(Period.objects.values_list("id", flat=True))
            publish(CustomersChanged(period_ids=tuple(period_ids)))
    return result


def customer_status_update(*, customer: Customer, status: str, acting_user) -> Customer:
    customer.status = status
    customer.full_clean()
    with transaction.atomic():
        customer._history_user = acting_user
        customer.save()
        publish(CustomersChanged(period_ids=tuple(Period.objects.values_list("id", flat=True))))
    return customer
