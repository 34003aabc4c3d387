"""django-filter sets of the customers API: validated query parameters, applied by the selectors."""

import django_filters

from . import selectors
from .models import CustomerPeriod, Level

ORDERING_CHOICES = [(key, key) for key in selectors.CUSTOMER_LIST_ORDERING] + [
    (f"-{key}", f"-{key}") for key in selectors.CUSTOMER_LIST_ORDERING
]


class CustomerPeriodFilter(django_filters.FilterSet):
    """``level``, ``search`` (name or customer id) and ``ordering`` of a period's stored customer rows."""

    level = django_filters.ChoiceFilter(choices=Level.choices, help_text="Pyramid level in the period.")
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, help_text="Part of the customer's name or customer id."
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method="filter_ordering",
        help_text="Sort key; a leading '-' sorts descending. Default: pyramid level, then rank.",
    )

    class Meta:
        model = CustomerPeriod
        fields = ["level"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(selectors.customer_search_q(value)) if value.strip() else queryset

    def filter_ordering(self, queryset, name, value):
        return queryset.order_by(*selectors.customer_list_order_by(value))
