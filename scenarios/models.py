"""Customer value, product value (surveys), value segments, segment targets and scenarios."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import MONEY, Customer, Period


class Segment(models.TextChoices):
    PARTNERS = "partners", _("Partners")
    VULNERABLE = "vulnerable", _("Vulnerable")
    UNDER_EARNING = "under_earning", _("Under-earning")
    LOW_LOW = "low_low", _("Low-low")
    UNMEASURED = "unmeasured", _("Unmeasured")


class ValueSettings(models.Model):
    """Single row (pk=1): CLV horizon, discount rate and segment thresholds."""

    horizon_years = models.PositiveSmallIntegerField(
        _("horizon (years)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    discount_rate = models.DecimalField(
        _("discount rate %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("8"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    clv_threshold = models.DecimalField(
        _("customer value threshold"),
        null=True,
        blank=True,
        help_text=_("Empty: the median customer value of active customers."),
        **MONEY,
    )
    product_value_threshold = models.DecimalField(
        _("product value threshold"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("7"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10"))],
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return str(_("Value settings"))


class SurveyResponse(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_responses")
    date = models.DateField(_("date"))
    round = models.CharField(_("round"), max_length=50, blank=True)
    score = models.DecimalField(
        _("score"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10"))],
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=0, score__lte=10), name="survey_score_range")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date}: {self.score}"


class CustomerValue(models.Model):
    # No index of its own: (period, customer) and (period, segment) lead with it.
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="customer_values", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="values")
    clv = models.DecimalField(**MONEY)
    method = models.CharField(max_length=10)
    product_value = models.DecimalField(max_digits=4, decimal_places=2, null=True)
    segment = models.CharField(max_length=20, choices=Segment)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "customer"], name="customervalue_unique")]
        indexes = [models.Index(fields=["period", "segment"])]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.period_id}: {self.segment}"


class SegmentTarget(models.Model):
    class Metric(models.TextChoices):
        REVENUE_RETENTION = "revenue_retention", _("Revenue retention")
        CUSTOMER_RETENTION = "customer_retention", _("Customer retention")
        ACQUISITION = "acquisition", _("Customer acquisition")
        PROFITABILITY = "profitability", _("Customer profitability")

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="segment_targets")
    segment = models.CharField(_("segment"), max_length=20, choices=Segment)
    metric = models.CharField(_("metric"), max_length=30, choices=Metric)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=4)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "segment", "metric"], name="segmenttarget_unique")]

    def __str__(self) -> str:
        return f"{self.segment} {self.metric}: {self.target}"


class Scenario(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    base_period = models.ForeignKey(Period, on_delete=models.PROTECT, null=True, blank=True)
    built_in = models.BooleanField(default=False)
    is_plan = models.BooleanField(_("plan"), default=False)
    levers = models.JSONField(_("levers"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-built_in", "name"]
        constraints = [models.UniqueConstraint(fields=["is_plan"], condition=models.Q(is_plan=True), name="one_plan")]

    def __str__(self) -> str:
        return self.name
