"""API of customer based accounting: cost pools (finance writes), invoices, profit and the waterfall.

Serializers parse and shape; every write goes through ``services`` (events, history), every read
through ``selectors``. Customers are scoped by ``customers.policy.customer_scope``.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.money import to_decimal
from config.roles import FINANCE, MANAGER, REP, RolePermission
from customers.models import Customer, CustomerProfit, Level, Period
from customers.policy import customer_scope, customer_scope_ids
from customers.selectors import period_get, period_list

from . import selectors, services
from .models import AllocationKey, CostPool, Invoice, PoolResult

MONEY = {"max_digits": 16, "decimal_places": 2}
PERIOD_PARAM = OpenApiParameter(
    "period", OpenApiTypes.INT, description="Period name (the fiscal year it starts in); the latest when omitted."
)


def period_param(request, *, required: bool = False) -> Period:
    """The period named by ?period= (the latest when omitted); an unknown one is a 400 with the known ones."""
    name = request.query_params.get("period")
    if required and not name:
        raise ValidationError({"period": ["Give the period, e.g. ?period=2025."]})
    period = period_get(name=name)
    if period is None:
        known = ", ".join(str(p.name) for p in period_list()) or "none yet: import orders first"
        raise ValidationError({"period": [f"Unknown period '{name or ''}'. Known periods: {known}."]})
    return period


class PeriodNameFilter(django_filters.NumberFilter):
    """?period=<name>: an unknown period is a 400 with a message, not an empty list."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if not Period.objects.filter(name=value).exists():
            raise ValidationError({"period": [f"Unknown period '{value}'."]})
        return qs.filter(**{self.field_name: value})


# --- cost pools -------------------------------------------------------------------------------


class PoolResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = PoolResult
        fields = ["allocated", "unused", "unallocated", "driver_total", "rate", "demand_minutes", "warning"]
        read_only_fields = fields


class CostPoolSerializer(serializers.ModelSerializer):
    period = serializers.SlugRelatedField(
        slug_field="name", queryset=Period.objects.all(), help_text="Period name, e.g. 2025."
    )
    customer = serializers.SlugRelatedField(
        slug_field="external_id",
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
        help_text="External id of the customer a direct pool is booked to.",
    )
    result = PoolResultSerializer(read_only=True, allow_null=True, help_text="The last allocation of the pool.")

    class Meta:
        model = CostPool
        fields = ["id", "period", *services.POOL_FIELDS, "result"]
        # The service checks a unique name per period and says which field is wrong.
        validators = []

    def validate(self, attrs):
        if self.instance is not None and "period" in attrs and attrs["period"].pk != self.instance.period_id:
            raise ValidationError({"period": ["A pool stays in its period: create a new pool in the other period."]})
        return attrs


class CostPoolFilter(django_filters.FilterSet):
    period = PeriodNameFilter(field_name="period__name", help_text="Period name, e.g. 2025.")
    key = django_filters.ChoiceFilter(choices=AllocationKey.choices)

    class Meta:
        model = CostPool
        fields = ["period", "key"]


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    date = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    type = serializers.ChoiceField(choices=["+", "~", "-"], help_text="+ created, ~ changed, - deleted")
    current = serializers.BooleanField()
    changes = HistoryChangeSerializer(many=True)


class RevertSerializer(serializers.Serializer):
    history_id = serializers.IntegerField(help_text="The history record to go back to.")


@extend_schema_view(
    list=extend_schema(summary="Cost pools, with their last allocation (filter ?period=, ?key=)"),
    retrieve=extend_schema(summary="One cost pool"),
    create=extend_schema(summary="Create a cost pool (finance)"),
    update=extend_schema(summary="Replace a cost pool (finance)"),
    partial_update=extend_schema(summary="Change a cost pool (finance)"),
    destroy=extend_schema(summary="Delete a cost pool (finance)"),
)
class CostPoolViewSet(viewsets.ModelViewSet):
    """Cost pools per period. Finance writes (through the services: recompute and history);
    managers and finance read."""

    serializer_class = CostPoolSerializer
    queryset = CostPool.objects.select_related("period", "customer", "result")
    permission_classes = [RolePermission]
    read_roles = (MANAGER, FINANCE)
    write_roles = (FINANCE,)
    filterset_class = CostPoolFilter
    search_fields = ["name"]
    ordering_fields = ["name", "amount", "period__name", "key"]
    ordering = ["period__name", "name"]

    def perform_create(self, serializer):
        values = dict(serializer.validated_data)
        period = values.pop("period")
        serializer.instance = services.cost_pool_create(period=period, acting_user=self.request.user, **values)

    def perform_update(self, serializer):
        values = dict(serializer.validated_data)
        values.pop("period", None)
        serializer.instance = services.cost_pool_update(
            pool=serializer.instance, acting_user=self.request.user, **values
        )

    def perform_destroy(self, instance):
        services.cost_pool_delete(pool=instance, acting_user=self.request.user)

    @extend_schema(summary="Every change of the pool, newest first", responses={200: HistoryEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        pool = self.get_object()
        entries = [
            {
                "history_id": e["record"].history_id,
                "date": e["date"],
                "user": e["user"].get_username() if e["user"] else None,
                "type": e["type"],
                "current": e["current"],
                "changes": [
                    {"field": c["field"], "old": _text(c["old"]), "new": _text(c["new"])} for c in e["changes"]
                ],
            }
            for e in selectors.pool_history(pool=pool)
        ]
        return Response(HistoryEntrySerializer(entries, many=True).data)

    @extend_schema(summary="Undo: go back to a version of the pool (finance)", request=RevertSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def revert(self, request, pk=None):
        pool = self.get_object()
        body = RevertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pool = services.cost_pool_revert(
            pool=pool, history_id=body.validated_data["history_id"], acting_user=request.user
        )
        pool = self.get_queryset().get(pk=pool.pk)
        return Response(CostPoolSerializer(pool).data)


def _text(value) -> str | None:
    return None if value is None else str(value)


# --- invoices ---------------------------------------------------------------------------------


class InvoiceSerializer(serializers.ModelSerializer):
    invoice_id = serializers.CharField(source="external_id")
    customer = serializers.CharField(source="customer.external_id", help_text="The customer's external id.")
    customer_name = serializers.CharField(source="customer.name")
    period = serializers.IntegerField(source="period.name")

    class Meta:
        model = Invoice
        fields = ["id", "invoice_id", "customer", "customer_name", "amount", "issued", "due", "paid", "period"]
        read_only_fields = fields


class InvoiceFilter(django_filters.FilterSet):
    period = PeriodNameFilter(field_name="period__name", help_text="Period name, e.g. 2025.")
    customer = django_filters.CharFilter(field_name="customer__external_id", help_text="The customer's external id.")
    open = django_filters.BooleanFilter(field_name="paid", lookup_expr="isnull", help_text="true: not paid yet.")

    class Meta:
        model = Invoice
        fields = ["period", "customer", "open"]


@extend_schema_view(
    list=extend_schema(summary="Invoices (filter ?customer=, ?period=, ?open=)"),
    retrieve=extend_schema(summary="One invoice"),
)
class InvoiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Invoices of the customers you may see; they drive the financing cost of late payment."""

    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.select_related("customer", "period")
    permission_classes = [RolePermission]
    read_roles = (MANAGER, FINANCE)
    filterset_class = InvoiceFilter
    search_fields = ["external_id", "customer__name", "customer__external_id"]
    ordering_fields = ["issued", "due", "paid", "amount", "external_id"]
    ordering = ["-issued", "external_id"]

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        scope = customer_scope_ids(self.request.user)
        return qs if scope is None else qs.filter(customer_id__in=scope)


# --- profit -----------------------------------------------------------------------------------


class CustomerProfitSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", help_text="Customer id (internal).")
    customer_id = serializers.CharField(source="customer.external_id", help_text="The customer's external id.")
    name = serializers.CharField(source="customer.name")
    period = serializers.IntegerField(source="period.name")

    class Meta:
        model = CustomerProfit
        fields = [
            "customer",
            "customer_id",
            "name",
            "period",
            "level",
            "revenue",
            "gross_margin",
            "allocated",
            "financing",
            "profit",
            "orders",
            "order_lines",
            "visits",
            "visit_minutes",
        ]
        read_only_fields = fields


class CustomerProfitFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Level.choices)
    lossmaking = django_filters.BooleanFilter(field_name="profit", lookup_expr="lt", method="filter_lossmaking")

    class Meta:
        model = CustomerProfit
        fields = ["level", "lossmaking"]

    def filter_lossmaking(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(profit__lt=0) if value else qs.filter(profit__gte=0)


@extend_schema(summary="Profit per customer in a period (the customers you may see)", parameters=[PERIOD_PARAM])
class CustomerProfitList(generics.ListAPIView):
    """Stored profit per customer: revenue, gross margin, allocated and financing cost, profit."""

    serializer_class = CustomerProfitSerializer
    queryset = CustomerProfit.objects.select_related("customer", "period")
    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    filterset_class = CustomerProfitFilter
    search_fields = ["customer__name", "customer__external_id"]
    ordering_fields = ["profit", "revenue", "gross_margin", "allocated", "financing", "customer__external_id"]
    ordering = ["customer__external_id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        period = period_param(self.request)
        return selectors.customer_profit_queryset(
            period=period, scope_ids=customer_scope_ids(self.request.user)
        ).select_related("period")


# --- one customer: waterfall and why it changed ---------------------------------------------


class WaterfallPoolSerializer(serializers.Serializer):
    pool_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    key = serializers.CharField(allow_null=True)
    amount = serializers.DecimalField(help_text="The customer's share of the pool.", **MONEY)
    driver_quantity = serializers.FloatField(help_text="The customer's driver quantity (orders, minutes, ...).")
    driver_total = serializers.FloatField(allow_null=True, help_text="The pool's driver total over all customers.")
    rate = serializers.FloatField(allow_null=True, help_text="Euros per driver unit (per minute for time-driven).")
    pool_amount = serializers.DecimalField(allow_null=True, **MONEY)
    warning = serializers.CharField(allow_blank=True)


class WaterfallInvoiceSerializer(serializers.Serializer):
    invoice_id = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    due = serializers.DateField()
    paid = serializers.DateField(allow_null=True)
    days_late = serializers.IntegerField()
    cost = serializers.FloatField(help_text="amount × days late × rate / 365, euros.")


class WaterfallStepSerializer(serializers.Serializer):
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["total", "step", "pool"])
    amount = serializers.DecimalField(**MONEY)
    start = serializers.DecimalField(**MONEY)
    end = serializers.DecimalField(**MONEY)


class WaterfallSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    customer_id = serializers.CharField(help_text="The customer's external id.")
    period = serializers.IntegerField()
    computed = serializers.BooleanField(help_text="False: no cost allocated in this period (profit = margin).")
    level = serializers.CharField(allow_null=True)
    revenue = serializers.DecimalField(**MONEY)
    gross_margin = serializers.DecimalField(**MONEY)
    allocated = serializers.DecimalField(**MONEY)
    financing = serializers.DecimalField(**MONEY)
    profit = serializers.DecimalField(**MONEY)
    orders = serializers.IntegerField()
    order_lines = serializers.IntegerField()
    visits = serializers.IntegerField()
    visit_minutes = serializers.IntegerField()
    interest_rate = serializers.DecimalField(max_digits=6, decimal_places=3, help_text="Yearly, in %.")
    as_of = serializers.DateField(help_text="Open invoices count as late up to this day.")
    pools = WaterfallPoolSerializer(many=True)
    invoices = WaterfallInvoiceSerializer(many=True)
    steps = WaterfallStepSerializer(many=True)


class ProfitChangePoolSerializer(serializers.Serializer):
    pool_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    allocated_before = serializers.DecimalField(**MONEY)
    allocated_after = serializers.DecimalField(**MONEY)
    own_drivers = serializers.DecimalField(**MONEY)
    pools = serializers.DecimalField(**MONEY)
    other_customers = serializers.DecimalField(**MONEY)


class ProfitChangeSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    reason = serializers.CharField(required=False, help_text="Why there is nothing to compare (when not available).")
    compare = serializers.CharField(required=False)
    before = serializers.CharField(required=False, help_text="Computation time or period name.")
    after = serializers.CharField(required=False)
    profit_before = serializers.DecimalField(required=False, **MONEY)
    profit_after = serializers.DecimalField(required=False, **MONEY)
    total_change = serializers.DecimalField(required=False, **MONEY)
    own_margin = serializers.DecimalField(required=False, **MONEY)
    own_drivers = serializers.DecimalField(required=False, **MONEY)
    pools = serializers.DecimalField(required=False, **MONEY)
    other_customers = serializers.DecimalField(required=False, **MONEY)
    financing = serializers.DecimalField(required=False, **MONEY)
    by_pool = ProfitChangePoolSerializer(many=True, required=False)


def _scoped_customer(request, pk: int) -> Customer:
    return get_object_or_404(customer_scope(request.user), pk=pk)


def _euros(cents) -> Decimal | None:
    return to_decimal(cents)


class CustomerWaterfallView(APIView):
    """A customer's P&L for a period, from revenue to profit, pool by pool with the drivers used."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)

    @extend_schema(summary="P&L waterfall of one customer", parameters=[PERIOD_PARAM], responses=WaterfallSerializer)
    def get(self, request, pk: int):
        customer = _scoped_customer(request, pk)
        period = period_param(request)
        w = selectors.customer_waterfall(customer=customer, period=period)
        data = {
            "customer": customer.pk,
            "customer_id": customer.external_id,
            "period": period.name,
            "computed": w["computed"],
            "level": w["level"],
            **{k: _euros(w[k]) for k in ("revenue", "gross_margin", "allocated", "financing", "profit")},
            **w["drivers"],
            "interest_rate": w["interest_rate"],
            "as_of": w["as_of"],
            "pools": [
                {
                    "pool_id": p["pool_id"],
                    "name": p["name"],
                    "key": p["key"],
                    "amount": _euros(p["amount_cents"]),
                    "driver_quantity": p["quantity"],
                    "driver_total": p["driver_total"],
                    "rate": p["rate"],
                    "pool_amount": _euros(p["pool_amount_cents"]),
                    "warning": p["warning"],
                }
                for p in w["pools"]
            ],
            "invoices": [{**i, "amount": _euros(i["amount_cents"])} for i in w["invoices"]],
            "steps": [
                {
                    "label": s["label"],
                    "kind": s["kind"],
                    "amount": _euros(s["amount_cents"]),
                    "start": _euros(s["start_cents"]),
                    "end": _euros(s["end_cents"]),
                }
                for s in w["steps"]
            ],
        }
        return Response(WaterfallSerializer(data).data)


COMPARE_PARAM = OpenApiParameter(
    "compare",
    OpenApiTypes.STR,
    enum=["snapshots", "previous_period"],
    description="snapshots (default): the last two computations of the period; previous_period: the previous period.",
)


class CustomerProfitChangeView(APIView):
    """Why a customer's profit changed, split into causes that add up to the change (euros)."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)

    @extend_schema(
        summary="Why a customer's profit changed",
        parameters=[PERIOD_PARAM, COMPARE_PARAM],
        responses=ProfitChangeSerializer,
    )
    def get(self, request, pk: int):
        customer = _scoped_customer(request, pk)
        period = period_param(request)
        compare = request.query_params.get("compare") or "snapshots"
        if compare not in ("snapshots", "previous_period"):
            raise ValidationError({"compare": ["Use snapshots or previous_period."]})
        change = selectors.profit_change(customer=customer, period=period, compare=compare)
        if not change["available"]:
            return Response(ProfitChangeSerializer(change).data, status=status.HTTP_200_OK)
        money = ["profit_before", "profit_after", "total_change", "own_margin", "own_drivers", "pools"]
        money += ["other_customers", "financing"]
        data = {
            "available": True,
            "compare": compare,
            "before": str(change["before"]),
            "after": str(change["after"]),
            **{m: _euros(change[f"{m}_cents"]) for m in money},
            "by_pool": [
                {
                    "pool_id": p["pool_id"],
                    "name": p["name"],
                    **{
                        k: _euros(p[f"{k}_cents"])
                        for k in ("allocated_before", "allocated_after", "own_drivers", "pools", "other_customers")
                    },
                }
                for p in change["by_pool"]
            ],
        }
        return Response(ProfitChangeSerializer(data).data)
