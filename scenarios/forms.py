"""Forms of the scenarios app: parse and validate input; the services do the writing."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Period

from .models import Segment, SegmentTarget
from .services import LEVER_BOUNDS, SHARE_METRICS
from .valuation import ACTIVE


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError inline: next to its field, or above the form."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class SurveyResponseForm(ServiceErrorsMixin, forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    score = forms.DecimalField(
        label=_("Score (0-10)"),
        min_value=0,
        max_value=10,
        max_digits=4,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    round = forms.CharField(
        label=_("Survey round"), max_length=50, required=False, help_text=_("Empty: the year of the date.")
    )
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers.order_by("name")
        self.fields["customer"].label_from_instance = lambda c: f"{c.name} ({c.external_id})"
        self.fields["date"].initial = timezone.localdate()


class ValueSettingsForm(ServiceErrorsMixin, forms.Form):
    horizon_years = forms.IntegerField(label=_("Horizon (years)"), min_value=1, max_value=30)
    discount_rate = forms.DecimalField(
        label=_("Discount rate %"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    clv_threshold = forms.DecimalField(
        label=_("Customer value threshold €"),
        required=False,
        max_digits=16,
        decimal_places=2,
        help_text=_("Empty: the median customer value of the active customers."),
    )
    product_value_threshold = forms.DecimalField(
        label=_("Product value threshold (0-10)"), min_value=0, max_value=10, max_digits=4, decimal_places=2
    )

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = read_only

    @classmethod
    def initial_from(cls, obj) -> dict:
        return {name: getattr(obj, name) for name in cls.base_fields}


def target_field_name(segment: str, metric: str) -> str:
    return f"{segment}__{metric}"


class SegmentTargetsForm(forms.Form):
    """The grid of targets of a period: one field per segment and metric; shares in %."""

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for segment in Segment.values:
            for metric in SegmentTarget.Metric.values:
                if metric in SHARE_METRICS:
                    field = forms.DecimalField(
                        required=False,
                        min_value=0,
                        max_value=1000 if metric == "revenue_retention" else 100,
                        max_digits=7,
                        decimal_places=2,
                        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
                    )
                else:
                    field = forms.IntegerField(required=False, min_value=0, max_value=10**9)
                field.label = f"{Segment(segment).label} – {SegmentTarget.Metric(metric).label}"
                field.disabled = read_only
                self.fields[target_field_name(segment, metric)] = field

    @staticmethod
    def initial_from(targets: dict[tuple[str, str], Decimal]) -> dict:
        initial = {}
        for (segment, metric), value in targets.items():
            shown = value * 100 if metric in SHARE_METRICS else value
            initial[target_field_name(segment, metric)] = _plain(shown)
        return initial

    def targets(self) -> dict[tuple[str, str], Decimal | None]:
        """The cleaned grid in stored units: shares as fractions, acquisition as a count."""
        out = {}
        for segment in Segment.values:
            for metric in SegmentTarget.Metric.values:
                value = self.cleaned_data.get(target_field_name(segment, metric))
                if value is None:
                    out[(segment, metric)] = None
                elif metric in SHARE_METRICS:
                    out[(segment, metric)] = (Decimal(value) / 100).quantize(Decimal("0.0001"))
                else:
                    out[(segment, metric)] = Decimal(int(value))
        return out

    def grid(self) -> list[dict]:
        """Rows (segments) of bound fields (metrics) for the template."""
        return [
            {
                "segment": segment,
                "label": Segment(segment).label,
                "fields": [self[target_field_name(segment, metric)] for metric in SegmentTarget.Metric.values],
            }
            for segment in Segment.values
        ]


def _pct_field(label, name: str, help_text: str = "") -> forms.DecimalField:
    lo, hi = LEVER_BOUNDS[name]
    scale = 1 if name.endswith("_points") else 100
    return forms.DecimalField(
        label=label,
        min_value=Decimal(str(lo * scale)),
        max_value=Decimal(str(hi * scale)),
        max_digits=6,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )


class ScenarioForm(ServiceErrorsMixin, forms.Form):
    """Name, base period and levers; growth figures in % a year, retention and migration in points."""

    name = forms.CharField(label=_("Name"), max_length=100)
    base_period = forms.ModelChoiceField(
        label=_("Base period"),
        queryset=Period.objects.none(),
        required=False,
        empty_label=_("Latest period"),
    )
    retention_top = _pct_field(_("Top"), "retention_change_points")
    retention_big = _pct_field(_("Big"), "retention_change_points")
    retention_medium = _pct_field(_("Medium"), "retention_change_points")
    retention_small = _pct_field(_("Small"), "retention_change_points")
    upward_migration_points = _pct_field(
        _("Upward migration (points)"), "upward_migration_points", _("Moved from staying to one level up.")
    )
    acquisition_growth = _pct_field(_("Acquisition growth (% a year)"), "acquisition_growth")
    spend_growth = _pct_field(_("Spend per customer (% a year)"), "spend_growth")
    cost_to_serve_change = _pct_field(_("Cost to serve (% a year)"), "cost_to_serve_change")
    discount_rate = _pct_field(_("Discount rate %"), "discount_rate")
    horizon = forms.IntegerField(label=_("Horizon (years)"), min_value=1, max_value=10)

    LEVER_FIELDS = (
        "retention_top",
        "retention_big",
        "retention_medium",
        "retention_small",
        "upward_migration_points",
        "acquisition_growth",
        "spend_growth",
        "cost_to_serve_change",
        "discount_rate",
        "horizon",
    )

    def __init__(self, *args, periods, lock_name: bool = False, lock_levers: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_period"].queryset = periods
        self.fields["base_period"].label_from_instance = lambda p: str(p.name)
        self.fields["name"].disabled = lock_name
        for name in self.LEVER_FIELDS:
            self.fields[name].disabled = lock_levers

    @classmethod
    def initial_from(cls, scenario, levers: dict) -> dict:
        points = levers.get("retention_change_points", {})
        initial = {
            "name": scenario.name,
            "base_period": scenario.base_period,
            **{f"retention_{level}": _plain(points.get(level, 0)) for level in ACTIVE},
            "upward_migration_points": _plain(levers.get("upward_migration_points", 0)),
            "horizon": int(levers.get("horizon", 5)),
        }
        for name in ("acquisition_growth", "spend_growth", "cost_to_serve_change", "discount_rate"):
            initial[name] = _plain(levers.get(name, 0) * 100)
        return initial

    def levers(self) -> dict:
        """The levers in stored units (fractions for growth and discount, points for retention/migration)."""
        d = self.cleaned_data

        def num(name: str, scale: int = 1) -> float:
            value = d.get(name)
            return 0.0 if value is None else float(value) / scale

        return {
            "retention_change_points": {level: num(f"retention_{level}") for level in ACTIVE},
            "upward_migration_points": num("upward_migration_points"),
            "acquisition_growth": num("acquisition_growth", 100),
            "spend_growth": num("spend_growth", 100),
            "cost_to_serve_change": num("cost_to_serve_change", 100),
            "discount_rate": num("discount_rate", 100),
            "horizon": int(d.get("horizon") or 5),
        }


def _plain(value) -> Decimal:
    """0.1 * 100 shown as 10 (not 10.000000000000002 or 1E+1); 2.5 as 2.5."""
    d = Decimal(str(round(float(value), 4)))
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


class CopyScenarioForm(forms.Form):
    name = forms.CharField(label=_("Name of the copy"), max_length=100, required=False)
