"""Forms of the sales-force pages: they parse and show errors; the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.dates import validate_date_in_window
from customers import policy
from customers.models import Level

from . import bonus, selectors
from .models import BonusKpi, RepPair, SalesRep, TeamTarget, Visit

MONTHS = 12


class VisitForm(forms.Form):
    """The phone form: one customer (search-as-you-type radio list), date, minutes, kind, outcome."""

    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Search and tap a customer."),
            "invalid_choice": _("This customer is not in your portfolio."),
        },
    )
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_date_in_window],
    )
    minutes = forms.IntegerField(
        label=_("Minutes"),
        min_value=1,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 1440, "step": 1}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Visit.Kind.choices, widget=forms.RadioSelect)
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = policy.customer_scope(user)
        self.fields["date"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future; log a visit once it has happened."))
        return date


class CustomerTargetForm(forms.Form):
    target_level = forms.ChoiceField(
        label=_("Target level"),
        required=False,
        choices=[("", "–")] + [(v, label) for v, label in Level.choices if v in selectors.ACTIVE_LEVELS],
    )
    target_revenue = forms.DecimalField(
        label=_("Target revenue (€)"), required=False, max_digits=16, decimal_places=2, min_value=Decimal("0")
    )
    target_profit = forms.DecimalField(label=_("Target profit (€)"), required=False, max_digits=16, decimal_places=2)

    def __init__(self, *args, month_labels: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = month_labels or [str(i + 1) for i in range(MONTHS)]
        for i in range(MONTHS):
            self.fields[f"m{i + 1}"] = forms.DecimalField(
                label=labels[i],
                required=False,
                max_digits=6,
                decimal_places=2,
                min_value=Decimal("0"),
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "class": "month"}),
            )

    def month_fields(self):
        return [self[f"m{i + 1}"] for i in range(MONTHS)]

    def clean(self):
        data = super().clean()
        months = [data.get(f"m{i + 1}") for i in range(MONTHS)]
        filled = [m for m in months if m is not None]
        if filled and len(filled) != MONTHS:
            raise forms.ValidationError(_("Fill in all 12 months of the seasonality, or none for an even split."))
        if filled and sum(filled) != 100:
            raise forms.ValidationError(
                _("The monthly percentages add up to %(total)s; they must add up to 100.") % {"total": sum(filled)}
            )
        data["seasonality"] = [float(m) for m in months] if filled else None
        return data

    @staticmethod
    def initial_for(target) -> dict:
        if target is None:
            return {}
        initial = {
            "target_level": target.target_level,
            "target_revenue": target.target_revenue,
            "target_profit": target.target_profit,
        }
        for i, value in enumerate(target.seasonality or []):
            initial[f"m{i + 1}"] = value
        return initial


class TeamTargetForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=None)
    kind = forms.ChoiceField(label=_("Target"), choices=TeamTarget.Kind.choices)
    target = forms.DecimalField(label=_("Value"), max_digits=12, decimal_places=2, min_value=Decimal("0"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = policy.managed_teams(user)
        self.fields["team"].empty_label = None


class BonusKpiForm(forms.Form):
    subject = forms.ChoiceField(label=_("For"))
    metric = forms.ChoiceField(label=_("Metric"), choices=BonusKpi.Metric.choices)
    weight = forms.DecimalField(
        label=_("Weight (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text=_("In percent, as the KPI table shows it: 20 for 20 %. A rep's or pair's weights add up to 100."),
    )
    threshold = forms.DecimalField(label=_("Threshold"), max_digits=16, decimal_places=4)
    target = forms.DecimalField(label=_("Target"), max_digits=16, decimal_places=4)
    cap = forms.DecimalField(
        label=_("Cap"), max_digits=6, decimal_places=3, min_value=Decimal("0"), initial=Decimal("1.5")
    )
    base_amount = forms.DecimalField(label=_("Base bonus (€)"), max_digits=16, decimal_places=2, min_value=Decimal("0"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = policy.managed_teams(user)
        pairs = RepPair.objects.filter(team__in=teams).select_related("outside_rep", "inside_rep").order_by("code")
        reps = SalesRep.objects.filter(team__in=teams).order_by("name")
        self.fields["subject"].choices = [
            (_("Pairs"), [(f"pair:{p.id}", str(p)) for p in pairs]),
            (_("Reps"), [(f"rep:{r.id}", r.name) for r in reps]),
        ]
        self._pairs = {p.id: p for p in pairs}
        self._reps = {r.id: r for r in reps}

    def clean_subject(self):
        kind, _sep, raw = self.cleaned_data["subject"].partition(":")
        try:
            ident = int(raw)
        except ValueError:
            raise forms.ValidationError(_("Choose a pair or a rep.")) from None
        if kind == "pair" and ident in self._pairs:
            return {"pair": self._pairs[ident], "rep": None}
        if kind == "rep" and ident in self._reps:
            return {"rep": self._reps[ident], "pair": None}
        raise forms.ValidationError(_("Choose a pair or a rep of your teams."))

    def clean_weight(self) -> Decimal:
        """Typed in percent, stored as a fraction (the service and the bonus computation use fractions)."""
        return bonus.weight_fraction(self.cleaned_data["weight"])

    def subject_and_weight(self) -> tuple[dict, Decimal] | None:
        """The subject and the weight (a fraction) typed so far, or None while either is missing or
        invalid: the live weight check needs only these two, not a complete form."""
        try:
            self.cleaned_data = {
                "subject": self.fields["subject"].clean(self.data.get("subject")),
                "weight": self.fields["weight"].clean(self.data.get("weight")),
            }
            return self.clean_subject(), self.clean_weight()
        except forms.ValidationError:
            return None

    @staticmethod
    def initial_for(kpi: BonusKpi) -> dict:
        return {
            "subject": f"pair:{kpi.pair_id}" if kpi.pair_id else f"rep:{kpi.rep_id}",
            "metric": kpi.metric,
            "weight": bonus.weight_percent(kpi.weight),
            "threshold": kpi.threshold,
            "target": kpi.target,
            "cap": kpi.cap,
            "base_amount": kpi.base_amount,
        }


class VisitNormsForm(forms.Form):
    """Days between contacts and the usual contact kind, one row per level."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            level = row["level"]
            self.fields[f"{level}_days"] = forms.IntegerField(
                label=dict(Level.choices)[level],
                required=False,
                min_value=1,
                max_value=3660,
                initial=row["days_between"],
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.fields[f"{level}_kind"] = forms.ChoiceField(
                label=_("Kind"), choices=Visit.Kind.choices, initial=row["kind"]
            )

    def level_rows(self):
        return [
            {
                "level": row["level"],
                "default": row["default"],
                "days": self[f"{row['level']}_days"],
                "kind": self[f"{row['level']}_kind"],
            }
            for row in self.rows
        ]

    def norms(self) -> dict[str, tuple[int | None, str]]:
        return {
            row["level"]: (self.cleaned_data[f"{row['level']}_days"], self.cleaned_data[f"{row['level']}_kind"])
            for row in self.rows
        }


class ReassignForm(forms.Form):
    pair = forms.ModelChoiceField(label=_("Move to pair"), queryset=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pair"].queryset = policy.pairs_for_user(user).select_related("outside_rep", "inside_rep")


class CompareForm(forms.Form):
    """The side-by-side of a revenue-based and a profit-based bonus: the same rules for both."""

    threshold_pct = forms.DecimalField(
        label=_("Threshold: % of last year"),
        initial=selectors.COMPARE_DEFAULTS["threshold_pct"],
        max_digits=6,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("1000"),
    )
    target_pct = forms.DecimalField(
        label=_("Target: % of last year"),
        initial=selectors.COMPARE_DEFAULTS["target_pct"],
        max_digits=6,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("1000"),
    )
    cap = forms.DecimalField(
        label=_("Cap"),
        initial=selectors.COMPARE_DEFAULTS["cap"],
        max_digits=6,
        decimal_places=3,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
    )
    base_amount = forms.DecimalField(
        label=_("Base bonus (€)"),
        initial=selectors.COMPARE_DEFAULTS["base_amount"],
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
    )

    def clean(self):
        data = super().clean()
        if data.get("threshold_pct") is not None and data.get("threshold_pct") == data.get("target_pct"):
            raise forms.ValidationError(_("Threshold and target must differ."))
        return data


class EstimateForm(forms.Form):
    """What-if inputs of the bonus estimator: nothing is saved."""

    revenue = forms.DecimalField(
        label=_("What-if revenue (€)"), required=False, max_digits=16, decimal_places=2, min_value=Decimal("0")
    )
    profit = forms.DecimalField(label=_("What-if profit (€)"), required=False, max_digits=16, decimal_places=2)
    target_revenue = forms.DecimalField(required=False, max_digits=16, decimal_places=2, min_value=Decimal("0"))
    target_profit = forms.DecimalField(required=False, max_digits=16, decimal_places=2)

    def what_if(self) -> tuple[Decimal | None, Decimal | None]:
        """The revenue and profit to try: the what-if fields, else the target form's fields."""
        data = self.cleaned_data
        revenue = data.get("revenue") if data.get("revenue") is not None else data.get("target_revenue")
        profit = data.get("profit") if data.get("profit") is not None else data.get("target_profit")
        return revenue, profit
