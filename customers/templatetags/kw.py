"""Display filters shared by every page: money, shares and level badges, per language.

``{% load kw %}`` then ``{{ value|money }}`` (€ 1.234,56 in Dutch, €1,234.56 in English;
negative: −€ 1.234,56 / -€1,234.56), ``{{ cents|money_cents }}``, ``{{ count|number }}``
(2.000 / 2,000), ``{{ fraction|pct }}`` (0.653 -> 65,3 % / 65.3 %), ``{{ level|level_badge }}``.

One style for every page: the same functions format text built in Python (reasons, messages),
so import them (``from customers.templatetags.kw import money``) instead of writing f"{x:.2f}".
"""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

register = template.Library()


def _dutch() -> bool:
    return (get_language() or "en").startswith("nl")


def _minus() -> str:
    return "\u2212" if _dutch() else "-"


def _format_number(value: Decimal, decimals: int) -> str:
    q = Decimal(1).scaleb(-decimals) if decimals else Decimal(1)
    value = value.quantize(q, rounding=ROUND_HALF_UP)
    sign = _minus() if value < 0 else ""
    whole, _, frac = f"{abs(value):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    thousands, point = (".", ",") if _dutch() else (",", ".")
    text = thousands.join(groups)
    if decimals:
        text += point + frac
    return sign + text


def _to_decimal(value):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except Exception:  # noqa: BLE001
        return None


@register.filter
def money(value, decimals: int = 2) -> str:
    d = _to_decimal(value)
    if d is None or d.is_nan():
        return "–"
    digits = _format_number(abs(d), int(decimals))
    if digits.strip("0,.") == "":  # rounds to zero: no minus sign on "0"
        d = abs(d)
    sign = _minus() if d < 0 else ""
    return sign + ("€ " if _dutch() else "€") + digits


@register.filter
def money_signed(value, decimals: int = 2) -> str:
    """A change: +€6.00 / −€ 6,00 (a plus sign on increases)."""
    d = _to_decimal(value)
    if d is None or d.is_nan():
        return "–"
    text = money(d, decimals)
    return text if text.startswith(("-", "\u2212")) or d == 0 else "+" + text


@register.filter
def money_cents(value, decimals: int = 2) -> str:
    d = _to_decimal(value)
    if d is None or d.is_nan():
        return "–"
    return money(d / 100, decimals)


@register.filter
def number(value, decimals: int = 0) -> str:
    d = _to_decimal(value)
    if d is None or d.is_nan():
        return "–"
    return _format_number(d, int(decimals))


@register.filter
def pct(value, decimals: int = 1) -> str:
    d = _to_decimal(value)
    if d is None or d.is_nan():
        return "–"
    return _format_number(d * 100, int(decimals)) + " %"


@register.filter
def level_badge(level) -> str:
    from customers.models import Level

    label = dict(Level.choices).get(level, level or "–")
    return format_html('<span class="badge {}">{}</span>', level or "", label)


@register.filter
def signed_class(value) -> str:
    d = _to_decimal(value)
    if d is None:
        return ""
    return "neg" if d < 0 else ""
