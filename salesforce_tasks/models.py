"""Visits, targets, bonus KPIs and actions (the organisation itself is in ``customers.models``)."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history import register
from simple_history.models import HistoricalRecords

# The organisation (Team, SalesRep, RepPair, PortfolioAssignment: who owns which customer when)
# lives in the core since issue 16; re-exported here so the sales force's code keeps its imports.
from customers.models import MONEY, Customer, Level, Period, PortfolioAssignment, RepPair, SalesRep, Team  # noqa: F401

# The actions on loss-making customers live in their own package; imported here so Django finds
# the model under this app's label.
from .actions.models import Action  # noqa: F401


class Visit(models.Model):
    class Kind(models.TextChoices):
        VISIT = "visit", _("Visit")
        PHONE = "phone", _("Phone call")
        VIDEO = "video", _("Video call")

    rep = models.ForeignKey(SalesRep, on_delete=models.PROTECT, related_name="visits")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visits")
    date = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(_("minutes"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)])
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.VISIT)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="visits")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["period", "customer"]),
            models.Index(fields=["rep", "date"]),
            # The visits page lists the newest first: walk this index instead of sorting every visit in scope.
            models.Index(fields=["-date", "-id"], name="visit_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date} {self.minutes}m"


class VisitNorm(models.Model):
    level = models.CharField(_("level"), max_length=10, choices=Level, unique=True)
    days_between = models.PositiveIntegerField(_("days between contacts"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Visit.Kind, default=Visit.Kind.VISIT)

    def __str__(self) -> str:
        return f"{self.level}: {self.days_between}"


class CustomerTarget(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="targets")
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="customer_targets")
    target_level = models.CharField(_("target level"), max_length=10, choices=Level, blank=True)
    target_revenue = models.DecimalField(_("target revenue"), null=True, blank=True, **MONEY)
    target_profit = models.DecimalField(_("target profit"), null=True, blank=True, **MONEY)
    seasonality = models.JSONField(_("monthly distribution %"), null=True, blank=True)
    #: The values above are the pair's proposal, never approved yet.
    proposed_by_pair = models.BooleanField(default=False)
    # A rep's change to an APPROVED target waits here, beside the approved values above, until a
    # manager approves it (copied over) or rejects it (cleared); the approved values never change.
    proposal_pending = models.BooleanField(_("change proposed"), default=False)
    proposal_level = models.CharField(_("proposed level"), max_length=10, choices=Level, blank=True)
    proposal_revenue = models.DecimalField(_("proposed revenue"), null=True, blank=True, **MONEY)
    proposal_profit = models.DecimalField(_("proposed profit"), null=True, blank=True, **MONEY)
    proposal_seasonality = models.JSONField(_("proposed monthly distribution %"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "period"], name="customertarget_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.period_id}"


class TeamTarget(models.Model):
    class Kind(models.TextChoices):
        NEW_SUSPECTS = "new_suspects", _("New suspects identified")
        PROSPECTS_TO_TOP = "prospects_to_top", _("Prospects developed into top customers")
        RETENTION = "retention", _("% of last year's customers retained")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="targets")
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="team_targets")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "period", "kind"], name="teamtarget_unique")]

    def __str__(self) -> str:
        return f"{self.team_id} {self.kind}: {self.target}"


class BonusKpi(models.Model):
    class Metric(models.TextChoices):
        PORTFOLIO_PROFIT = "portfolio_profit", _("Portfolio customer profit")
        PROFIT_GROWTH = "profit_growth", _("Profit growth")
        CUSTOMER_RETENTION = "customer_retention", _("Customer retention")
        CUSTOMERS_MOVED_UP = "customers_moved_up", _("Customers moved up")
        REVENUE = "revenue", _("Revenue")
        GROSS_MARGIN = "gross_margin", _("Gross margin")

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="bonus_kpis")
    rep = models.ForeignKey(SalesRep, null=True, blank=True, on_delete=models.CASCADE, related_name="kpis")
    pair = models.ForeignKey(RepPair, null=True, blank=True, on_delete=models.CASCADE, related_name="kpis")
    metric = models.CharField(_("metric"), max_length=30, choices=Metric)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    threshold = models.DecimalField(_("threshold"), max_digits=16, decimal_places=4)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=4)
    cap = models.DecimalField(_("cap"), max_digits=6, decimal_places=3, default=Decimal("1.5"))
    base_amount = models.DecimalField(_("base bonus"), **MONEY)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(rep__isnull=False, pair__isnull=True) | models.Q(rep__isnull=True, pair__isnull=False)
                ),
                name="bonuskpi_rep_xor_pair",
            ),
            # One KPI per metric for a rep (or a pair) and period: a second one would pay twice.
            # Conditional, since the other of rep and pair is null (NULLs never collide in a unique index).
            models.UniqueConstraint(
                fields=["period", "rep", "metric"],
                condition=models.Q(rep__isnull=False),
                name="bonuskpi_unique_rep_metric",
            ),
            models.UniqueConstraint(
                fields=["period", "pair", "metric"],
                condition=models.Q(pair__isnull=False),
                name="bonuskpi_unique_pair_metric",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} ({self.period})"


# Users and their roles are organisation records too: who invited whom, who got which role.
register(
    get_user_model(),
    app="salesforce_tasks",
    excluded_fields=["password", "last_login"],
    m2m_fields=["groups"],
    table_name="salesforce_tasks_historicaluser",
)
