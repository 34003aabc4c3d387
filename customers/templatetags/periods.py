"""Template filters about periods: ``{{ period|has_orders }}`` (one query)."""

from django import template

from customers import selectors

register = template.Library()


@register.filter
def has_orders(period) -> bool:
    """Whether the period has order lines: a period without is shown as such, never as zeros."""
    return selectors.period_has_orders(period)
