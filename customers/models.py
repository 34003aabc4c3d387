"""Customers, products, orders and the stored pyramid per period.

Money is ``Decimal`` with two places in the database. Computations read integer cents.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 16, "decimal_places": 2}


class CustomerStatus(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")


class Level(models.TextChoices):
    TOP = "top", _("Top")
    BIG = "big", _("Big")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    INACTIVE = "inactive", _("Inactive")
    PROSPECT = "prospect", _("Prospect")
    SUSPECT = "suspect", _("Suspect")


class PyramidSchemeKind(models.TextChoices):
    RANK_SHARE = "rank_share", _("Rank share")
    THRESHOLDS = "thresholds", _("Revenue thresholds")


class PyramidSettings(models.Model):
    """The single row of pyramid settings (pk=1), editable by managers."""

    scheme = models.CharField(
        _("scheme"), max_length=20, choices=PyramidSchemeKind, default=PyramidSchemeKind.RANK_SHARE
    )
    top_share = models.DecimalField(_("top share %"), max_digits=5, decimal_places=2, default=Decimal("1"))
    big_share = models.DecimalField(_("big share %"), max_digits=5, decimal_places=2, default=Decimal("4"))
    medium_share = models.DecimalField(_("medium share %"), max_digits=5, decimal_places=2, default=Decimal("15"))
    top_threshold = models.DecimalField(_("top threshold"), null=True, blank=True, **MONEY)
    big_threshold = models.DecimalField(_("big threshold"), null=True, blank=True, **MONEY)
    medium_threshold = models.DecimalField(_("medium threshold"), null=True, blank=True, **MONEY)
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("fiscal year start month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pyramid settings")
        verbose_name_plural = _("pyramid settings")

    def __str__(self) -> str:
        return str(_("Pyramid settings"))


class Period(models.Model):
    """A fiscal year, named by the calendar year in which it starts."""

    name = models.PositiveIntegerField(_("name"), unique=True)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), help_text=_("Last day of the period (inclusive)."))
    closed = models.BooleanField(
        _("closed"),
        default=False,
        help_text=_("A closed period refuses every write dated in it; its figures are frozen."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="period_end_after_start")
        ]

    def __str__(self) -> str:
        return str(self.name)


class ProductGroup(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    code = models.CharField(_("code"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    group = models.ForeignKey(ProductGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name or self.code


class Customer(models.Model):
    external_id = models.CharField(_("customer id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=CustomerStatus, default=CustomerStatus.CUSTOMER)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    pair = models.ForeignKey(
        "RepPair",
        verbose_name=_("rep pair"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    created_at = models.DateTimeField(
        _("known since"), default=timezone.now, help_text=_("Before this date the customer is 'new' in migrations.")
    )
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["pair"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


# --- the organisation: who owns which customer when ------------------------------------------
# Ownership is core data: the customer import's ``owner`` column names a pair and every app reads
# "whose customer is this". The tables keep their names from when the sales force held them.


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    history = HistoricalRecords(table_name="salesforce_tasks_historicalteam")

    class Meta:
        db_table = "salesforce_tasks_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SalesRep(models.Model):
    class Kind(models.TextChoices):
        OUTSIDE = "outside", _("Outside (field)")
        INSIDE = "inside", _("Inside (desk)")

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="reps")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sales_rep"
    )
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(table_name="salesforce_tasks_historicalsalesrep")

    class Meta:
        db_table = "salesforce_tasks_salesrep"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RepPair(models.Model):
    """One outside and one inside rep sharing a portfolio and its targets."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="pairs")
    outside_rep = models.ForeignKey(SalesRep, on_delete=models.PROTECT, related_name="outside_pairs")
    inside_rep = models.ForeignKey(SalesRep, on_delete=models.PROTECT, related_name="inside_pairs")
    outside_share = models.DecimalField(
        _("outside rep credit %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(table_name="salesforce_tasks_historicalreppair")

    class Meta:
        db_table = "salesforce_tasks_reppair"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code}: {self.outside_rep} / {self.inside_rep}"


class PortfolioAssignment(models.Model):
    """Who owned a customer when: reassignment closes one row and opens the next."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    pair = models.ForeignKey(RepPair, on_delete=models.PROTECT, related_name="assignments")
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    outside_share = models.DecimalField(
        _("outside rep credit %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: the pair's split."),
    )
    history = HistoricalRecords(table_name="salesforce_tasks_historicalportfolioassignment")

    class Meta:
        db_table = "salesforce_tasks_portfolioassignment"
        ordering = ["customer", "start"]
        indexes = [models.Index(fields=["pair", "start"])]

    def __str__(self) -> str:
        return f"{self.customer_id} -> {self.pair_id} from {self.start}"


class Order(models.Model):
    external_id = models.CharField(_("order id"), max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    date = models.DateField(_("date"))
    # No index of its own: the (period, customer) index serves every lookup by period.
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="orders", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["period", "customer"])]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(models.Model):
    # No index of its own: the unique (order, line_no) index serves every lookup by order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_no = models.PositiveIntegerField(_("line"))
    amount = models.DecimalField(_("net revenue"), **MONEY)
    cost = models.DecimalField(_("cost of goods"), default=Decimal("0"), **MONEY)
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=3, default=Decimal("0"))
    # No index: nothing reads lines by product, and an import writes 1,000,000 lines. (Deleting a
    # product, which no code does, would scan the lines.)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, db_index=False)
    # Denormalised from the order so a period's lines aggregate without a join. The lines' writers
    # (services.orders, the import, bulk_services, the fiscal-year re-cut) copy them from the order,
    # so they need no foreign key checks of their own (an import of 1,000,000 lines paid 2,000,000 of
    # them at commit) nor indexes of their own (the reads go by (period, customer)): the order's
    # customer and period are checked, and ``Order``'s PROTECT refuses to delete a customer or period
    # with orders, hence with lines (tests/customers/test_order_line_integrity.py).
    customer = models.ForeignKey(
        Customer, on_delete=models.DO_NOTHING, related_name="order_lines", db_constraint=False, db_index=False
    )
    period = models.ForeignKey(
        Period, on_delete=models.DO_NOTHING, related_name="order_lines", db_constraint=False, db_index=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "line_no"], name="orderline_unique_line")]
        indexes = [models.Index(fields=["period", "customer"])]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no}"


class CustomerPeriod(models.Model):
    """The stored pyramid: one row per customer and period (written in bulk by a recompute)."""

    # No index of their own: (period, customer), (period, level) and (customer, period) lead with them,
    # and every index is written again when a recompute updates a row (README, Benchmarks).
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="customer_rows", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="period_rows", db_index=False)
    level = models.CharField(max_length=10, choices=Level)
    rank = models.PositiveIntegerField(null=True)
    revenue = models.DecimalField(**MONEY)
    gross_margin = models.DecimalField(**MONEY)
    orders = models.PositiveIntegerField(default=0)
    order_lines = models.PositiveIntegerField(default=0)
    existing = models.BooleanField(default=False, help_text=_("Had net revenue before this period."))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "customer"], name="customerperiod_unique")]
        indexes = [models.Index(fields=["period", "level"]), models.Index(fields=["customer", "period"])]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.period_id}: {self.level}"


class CustomerPeriodFacts(models.Model):
    """Facts per customer and period that higher apps write into the core and lower ones read.

    The core's answer to "a lower layer needs a figure a higher one owns": the owner writes it here
    through ``customers.facts`` (a delta upsert in the writer's transaction, or a rebuild of a
    period), and a reader (accounting's allocation keys) reads only this table. Today the sales
    force writes visits and visit minutes; every column is a summable count so that a later fact
    (revenue, margin, orders, lines) is maintained the same way: ``column = column + delta``.
    """

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="customer_facts")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="period_facts")
    visits = models.IntegerField(_("visits"), default=0, db_default=0)
    visit_minutes = models.BigIntegerField(_("visit minutes"), default=0, db_default=0)
    # Every fact has a database default: a writer upserts only its own columns (customers.facts).
    # The order facts (issue 17), written by the order writers in their transaction: Σ line amount
    # and Σ (amount - cost) in integer cents, orders with at least one line, lines.
    revenue_cents = models.BigIntegerField(_("net revenue (cents)"), default=0, db_default=0)
    gross_margin_cents = models.BigIntegerField(_("gross margin (cents)"), default=0, db_default=0)
    orders = models.IntegerField(_("orders"), default=0, db_default=0)
    order_lines = models.IntegerField(_("order lines"), default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "customer"], name="customerperiodfacts_unique"),
            models.CheckConstraint(
                condition=models.Q(visits__gte=0, visit_minutes__gte=0), name="customerperiodfacts_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(orders__gte=0, order_lines__gte=0), name="customerperiodfacts_orders_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.period_id}: {self.visits} visits, {self.visit_minutes} min"


class CustomerProfit(models.Model):
    """Profit per customer and period: accounting's profit stage writes it here, in the core, so the
    core's pages and reports read profit without importing accounting (README, Architecture).

    Written in bulk by ``accounting.services.profit_store`` only; the table keeps its first name.
    """

    # No index of its own: the unique (period, customer) leads with it.
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="profits", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="profits")
    level = models.CharField(max_length=10)
    revenue = models.DecimalField(**MONEY)
    gross_margin = models.DecimalField(**MONEY)
    allocated = models.DecimalField(**MONEY)
    financing = models.DecimalField(**MONEY)
    profit = models.DecimalField(**MONEY)
    orders = models.PositiveIntegerField(default=0)
    order_lines = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    visit_minutes = models.PositiveIntegerField(default=0)
    # {pool_id: [amount_cents, driver_quantity]}: the P&L waterfall of this customer.
    by_pool = models.JSONField(default=dict)

    class Meta:
        db_table = "accounting_customerprofit"
        constraints = [models.UniqueConstraint(fields=["period", "customer"], name="customerprofit_unique")]
        # No index on profit: after one order about half the rows' profit moves by a cent (the
        # proportional keys' totals change), and an indexed column changed rules out the HOT update
        # (migration 0009). Lists sorted by profit sort the period's rows instead.

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.period_id}: {self.profit}"


class PeriodCosts(models.Model):
    """What the profit stage charged to no customer, per period, written with ``CustomerProfit``:
    the pools it allocated, their unused capacity and the amounts without a driver (so the period
    totals are read from the core, ``customers.totals``)."""

    period = models.OneToOneField(Period, on_delete=models.CASCADE, primary_key=True, related_name="costs")
    pools = models.DecimalField(**MONEY)
    unused = models.DecimalField(**MONEY)
    unallocated = models.DecimalField(**MONEY)

    def __str__(self) -> str:
        return f"{self.period_id}: pools {self.pools}, unused {self.unused}, unallocated {self.unallocated}"


class Computation(models.Model):
    """Dirty-marker and lock row for one stage of one period's recomputation.

    ``requested`` rises on every change (in the writer's transaction); a worker recomputes
    while ``computed < requested``, holding the row lock, so bursts coalesce and two workers
    never interleave writes for the same period and stage.
    """

    class Stage(models.TextChoices):
        PYRAMID = "pyramid", _("Pyramid")
        PROFIT = "profit", _("Profit")
        VALUE = "value", _("Customer value")
        SALESFORCE = "salesforce", _("Sales force")

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="computations")
    stage = models.CharField(max_length=20, choices=Stage)
    requested = models.PositiveBigIntegerField(default=0)
    computed = models.PositiveBigIntegerField(default=0)
    requested_at = models.DateTimeField(null=True)
    computed_at = models.DateTimeField(null=True)
    duration_ms = models.PositiveIntegerField(null=True)
    runs = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "stage"], name="computation_unique_stage")]

    def __str__(self) -> str:
        return f"{self.period_id}/{self.stage} {self.computed}/{self.requested}"

    @property
    def stale(self) -> bool:
        return self.computed < self.requested

    @classmethod
    def period_frozen(cls, period_id: int) -> bool:
        """A closed period's figures are frozen: the event bus answers its requests without a recompute."""
        return Period.objects.filter(pk=period_id, closed=True).exists()
