"""API for single orders: create or replace an order with its lines (event-driven recompute).

Orders come from the ERP: finance and the integration role write them for every customer, a manager
only for the customers of the teams they manage, a rep never (``customers.policy``).
"""

from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.dates import validate_date_in_window
from config.roles import FINANCE, INTEGRATION, MANAGER, REP, RolePermission

from . import policy, services
from .models import Order

MONEY = {
    "max_digits": 15,
    "decimal_places": 2,
    "min_value": Decimal("-9999999999999"),
    "max_value": Decimal("9999999999999"),
}


class LineSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    cost = serializers.DecimalField(required=False, default=Decimal("0"), **MONEY)
    quantity = serializers.DecimalField(
        max_digits=15,
        decimal_places=3,
        required=False,
        default=Decimal("0"),
        min_value=Decimal("-999999999999"),
        max_value=Decimal("999999999999"),
    )
    product = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class OrderSerializer(serializers.Serializer):
    order_id = serializers.CharField(max_length=64)
    customer_id = serializers.CharField(max_length=64, help_text="The customer's external id.")
    date = serializers.DateField(
        validators=[validate_date_in_window], help_text="Within the date window (default: 2000-01-01 to a year ahead)."
    )
    lines = LineSerializer(many=True, allow_empty=False, max_length=10000)


class OrderOutSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    customer_id = serializers.CharField()
    date = serializers.DateField()
    period = serializers.IntegerField()
    lines = serializers.IntegerField()


def _out(order: Order) -> dict:
    return {
        "order_id": order.external_id,
        "customer_id": order.customer.external_id,
        "date": order.date,
        "period": order.period.name,
        "lines": order.lines.count(),
    }


class OrderView(APIView):
    """POST an order (upsert by order_id): finance and integration for any customer, a manager for the
    customers of their teams. An existing order id outside your scope is a 404, as on GET."""

    permission_classes = [RolePermission]
    read_roles = ()
    write_roles = (MANAGER, FINANCE, INTEGRATION)

    @extend_schema(
        request=OrderSerializer,
        responses={
            201: OrderOutSerializer,
            404: OpenApiResponse(description="The order id exists outside your scope."),
        },
    )
    def post(self, request):
        ser = OrderSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        policy.order_for_upsert(request.user, data["order_id"])  # someone else's order: 404
        customer = policy.customer_write_scope(request.user).filter(external_id=data["customer_id"]).first()
        if customer is None:
            raise serializers.ValidationError(
                {"customer_id": [_("Unknown customer, or not one you may write orders for.")]}
            )
        order = services.order_upsert(
            external_id=data["order_id"],
            customer=customer,
            date=data["date"],
            lines=[services.LineInput(**line) for line in data["lines"]],
            acting_user=request.user,
        )
        return Response(_out(order), status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    """One order of a customer in your scope (404 outside it); DELETE for the ERP writers."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE, INTEGRATION)
    write_roles = (MANAGER, FINANCE, INTEGRATION)

    @extend_schema(responses={200: OrderOutSerializer})
    def get(self, request, order_id: str):
        order = policy.order_scope(request.user).select_related("customer", "period").filter(external_id=order_id)
        found = order.first()
        if found is None:
            raise Http404(_("No such order in your scope."))
        return Response(_out(found))

    @extend_schema(responses={204: None})
    def delete(self, request, order_id: str):
        services.order_delete(order=policy.order_for_update(request.user, order_id), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
