"""Cost pools, allocation keys, invoices and the stored profit per customer."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import MONEY, Customer, Period


class AllocationKey(models.TextChoices):
    PER_CUSTOMER = "per_customer", _("Equal per active customer")
    PER_LEVEL = "per_level", _("Per pyramid level (weighted)")
    REVENUE = "revenue", _("Revenue")
    ORDERS = "orders", _("Number of orders")
    ORDER_LINES = "order_lines", _("Number of order lines")
    VISITS = "visits", _("Number of visits")
    VISIT_MINUTES = "visit_minutes", _("Visit and call minutes")
    TIME_DRIVEN = "time_driven", _("Time-driven (minutes × rate)")
    DIRECT = "direct", _("Direct to one customer")


class Nature(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    VARIABLE = "variable", _("Variable")


class CostPool(models.Model):
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="cost_pools")
    name = models.CharField(_("name"), max_length=100)
    amount = models.DecimalField(_("amount"), validators=[MinValueValidator(Decimal("0"))], **MONEY)
    nature = models.CharField(_("nature"), max_length=10, choices=Nature, default=Nature.FIXED)
    key = models.CharField(_("allocation key"), max_length=20, choices=AllocationKey)
    weight_top = models.DecimalField(_("weight top"), max_digits=8, decimal_places=3, default=Decimal("1"))
    weight_big = models.DecimalField(_("weight big"), max_digits=8, decimal_places=3, default=Decimal("1"))
    weight_medium = models.DecimalField(_("weight medium"), max_digits=8, decimal_places=3, default=Decimal("1"))
    weight_small = models.DecimalField(_("weight small"), max_digits=8, decimal_places=3, default=Decimal("1"))
    capacity_minutes = models.DecimalField(
        _("practical capacity (minutes)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    minutes_per_order = models.DecimalField(
        _("minutes per order"), max_digits=8, decimal_places=2, default=Decimal("0")
    )
    minutes_per_line = models.DecimalField(_("minutes per line"), max_digits=8, decimal_places=2, default=Decimal("0"))
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer (direct)"), null=True, blank=True, on_delete=models.PROTECT
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["period", "name"]
        constraints = [
            models.UniqueConstraint(fields=["period", "name"], name="costpool_unique_name"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="costpool_amount_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period})"


class PeriodFinance(models.Model):
    """Per-period finance settings: the yearly interest rate for late-payment financing."""

    period = models.OneToOneField(Period, on_delete=models.CASCADE, related_name="finance")
    interest_rate = models.DecimalField(
        _("yearly interest rate %"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("6"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.period}: {self.interest_rate}%"


class Invoice(models.Model):
    external_id = models.CharField(_("invoice id"), max_length=64, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    amount = models.DecimalField(_("amount"), **MONEY)
    issued = models.DateField(_("issued"))
    due = models.DateField(_("due"))
    paid = models.DateField(_("paid"), null=True, blank=True)
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="invoices")

    class Meta:
        indexes = [models.Index(fields=["period", "customer"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(due__gte=models.F("issued")), name="invoice_due_after_issue")
        ]

    def __str__(self) -> str:
        return self.external_id


class PoolResult(models.Model):
    """Per pool and computation: what was allocated, unused capacity, and any warning."""

    pool = models.OneToOneField(CostPool, on_delete=models.CASCADE, related_name="result")
    allocated = models.DecimalField(**MONEY)
    unused = models.DecimalField(**MONEY)
    unallocated = models.DecimalField(**MONEY)
    driver_total = models.FloatField()
    rate = models.FloatField(null=True)
    demand_minutes = models.FloatField(null=True)
    warning = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.pool_id}: {self.allocated}"


class ProfitSnapshot(models.Model):
    """The inputs of one profit computation (drivers, pools, financing), gzipped CSV.

    The latest two per period are kept, so "why did this customer's profit change" can re-run
    the allocation with mixed inputs and split the difference into its causes.
    """

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="profit_snapshots")
    created_at = models.DateTimeField(auto_now_add=True)
    drivers = models.BinaryField()
    pools = models.BinaryField()
    financing = models.BinaryField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.period_id} @ {self.created_at}"
