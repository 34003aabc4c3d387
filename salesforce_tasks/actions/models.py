"""Actions on loss-making customers: what the pair proposes, the manager decides, and its what-if.

Imported by ``salesforce_tasks.models``, so Django finds the model under the app label
``salesforce_tasks`` (its table and migrations stay the app's).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from customers.models import MONEY, Customer, Period


class Action(models.Model):
    class Type(models.TextChoices):
        MIN_REVENUE = "min_revenue", _("Minimum annual revenue agreement")
        DISCOUNT_CHANGE = "discount_change", _("Discount change (+ margin points)")
        MIN_ORDER_SIZE = "min_order_size", _("Minimum order size")
        ORDER_SURCHARGE = "order_surcharge", _("Order or admin surcharge per order")
        MOVE_TO_INSIDE = "move_to_inside", _("Move to inside sales / self-service")
        PART_WAYS = "part_ways", _("Part ways")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        AGREED = "agreed", _("Agreed")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="actions")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="actions")
    type = models.CharField(_("action"), max_length=20, choices=Type)
    parameter = models.DecimalField(_("parameter"), max_digits=16, decimal_places=2, null=True, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PROPOSED)
    notes = models.TextField(_("notes"), blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    dropped_at = models.DateTimeField(null=True, blank=True)
    whatif_customer_profit = models.DecimalField(null=True, blank=True, **MONEY)
    whatif_company_profit_change = models.DecimalField(null=True, blank=True, **MONEY)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-proposed_at"]

    def __str__(self) -> str:
        return f"{self.get_type_display()} – {self.customer_id}"
