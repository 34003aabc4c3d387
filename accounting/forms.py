"""Forms of the accounting pages: parse and show input; the rules live in ``services``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Period

from . import services
from .models import AllocationKey, CostPool, PeriodFinance

WEIGHT_FIELDS = ("weight_top", "weight_big", "weight_medium", "weight_small")
TIME_FIELDS = ("capacity_minutes", "minutes_per_order", "minutes_per_line")
# The fields each key uses besides name, amount, nature and key.
KEY_FIELDS = {
    AllocationKey.PER_LEVEL: WEIGHT_FIELDS,
    AllocationKey.TIME_DRIVEN: TIME_FIELDS,
    AllocationKey.DIRECT: ("customer",),
}
DEFAULTS = {
    **dict.fromkeys(WEIGHT_FIELDS, Decimal("1")),
    "capacity_minutes": None,
    "minutes_per_order": Decimal("0"),
    "minutes_per_line": Decimal("0"),
    "customer": None,
}
CUSTOMER_OPTIONS = 20


def customer_options(*, query: str, selected: Customer | None = None, limit: int = CUSTOMER_OPTIONS) -> list:
    """(pk, label) of the customers whose id or name contains ``query`` (at most ``limit``), plus the selected one."""
    options = []
    if selected is not None:
        options.append((selected.pk, str(selected)))
    query = (query or "").strip()
    if query:
        found = Customer.objects.filter(Q(external_id__icontains=query) | Q(name__icontains=query))
        if selected is not None:
            found = found.exclude(pk=selected.pk)
        options += [(c.pk, str(c)) for c in found.order_by("name", "external_id")[:limit]]
    return options


class CostPoolForm(forms.ModelForm):
    """A cost pool of one period. Fields another key does not use are kept as hidden inputs
    (so switching the key back and forth loses nothing) and reset to their defaults on save."""

    customer_q = forms.CharField(
        label=_("Find customer"),
        required=False,
        help_text=_("Type part of the customer id or name, then pick the customer."),
    )

    class Meta:
        model = CostPool
        fields = list(services.POOL_FIELDS)
        widgets = {"amount": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})}

    def __init__(self, *args, period: Period, **kwargs):
        super().__init__(*args, **kwargs)
        self.period = period
        self.instance.period = period
        for name in (*WEIGHT_FIELDS, "minutes_per_order", "minutes_per_line"):
            self.fields[name].required = False
        self.fields["key"].initial = AllocationKey.PER_CUSTOMER
        self.fields["customer"].queryset = Customer.objects.all()
        self.fields["customer"].empty_label = _("— choose a customer —")
        # Render only the customers found by the search (and the chosen one), never all of them.
        selected = self._selected_customer()
        query = self.data.get("customer_q", "") if self.is_bound else ""
        self.fields["customer"].widget.choices = [("", self.fields["customer"].empty_label)] + customer_options(
            query=query, selected=selected
        )

    def _selected_customer(self) -> Customer | None:
        if self.is_bound:
            value = self.data.get("customer")
            if not value or not str(value).isdigit():
                return None
            return Customer.objects.filter(pk=int(value)).first()
        return self.instance.customer if self.instance.customer_id else None

    @property
    def current_key(self) -> str:
        key = self.data.get("key") if self.is_bound else (self.instance.key or self.fields["key"].initial)
        return key if key in AllocationKey.values else AllocationKey.PER_CUSTOMER

    def shown_fields(self) -> list:
        """The key-specific fields of the current key, in form order."""
        names = KEY_FIELDS.get(self.current_key, ())
        return [self[name] for name in self.fields if name in names]

    def kept_fields(self) -> list:
        """The key-specific fields the current key does not use: rendered as hidden inputs."""
        used = KEY_FIELDS.get(self.current_key, ())
        every = {name for names in KEY_FIELDS.values() for name in names}
        return [self[name] for name in self.fields if name in every and name not in used]

    def clean(self):
        data = super().clean()
        used = KEY_FIELDS.get(data.get("key"), ())
        for name, default in DEFAULTS.items():
            if name not in used or data.get(name) is None:
                data[name] = default
        return data

    def _post_clean(self):
        super()._post_clean()
        # The key's own rules (capacity for time-driven, the customer of a direct pool, a unique
        # name in the period) come from the service, shown beside the field they are about.
        try:
            services.cost_pool_validate(self.instance)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                target = field if field in self.fields else None
                if target and target in self.errors:
                    continue
                for message in messages:
                    self.add_error(target, message)

    def pool_values(self) -> dict:
        """The cleaned values, as the services take them."""
        return {name: self.cleaned_data[name] for name in services.POOL_FIELDS}


class InterestRateForm(forms.ModelForm):
    class Meta:
        model = PeriodFinance
        fields = ["interest_rate"]
        widgets = {"interest_rate": forms.NumberInput(attrs={"step": "0.001", "min": "0", "max": "100"})}
