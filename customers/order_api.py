"""API for single orders: create or replace an order with its lines (event-driven recompute)."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import FINANCE, MANAGER, REP, RolePermission
from salesforce_tasks.selectors import customer_scope

from . import services
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
    date = serializers.DateField()
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
    """POST an order (upsert by order_id); the customer must be in your scope."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    write_roles = (MANAGER, FINANCE, REP)

    @extend_schema(request=OrderSerializer, responses={201: OrderOutSerializer})
    def post(self, request):
        ser = OrderSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        customer = customer_scope(request.user).filter(external_id=data["customer_id"]).first()
        if customer is None:
            raise serializers.ValidationError({"customer_id": ["Unknown customer (or not in your portfolio)."]})
        order = services.order_upsert(
            external_id=data["order_id"],
            customer=customer,
            date=data["date"],
            lines=[services.LineInput(**line) for line in data["lines"]],
            acting_user=request.user,
        )
        return Response(_out(order), status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    write_roles = (MANAGER, FINANCE)

    def _get(self, request, order_id: str) -> Order:
        return get_object_or_404(
            Order.objects.select_related("customer", "period").filter(customer__in=customer_scope(request.user)),
            external_id=order_id,
        )

    @extend_schema(responses={200: OrderOutSerializer})
    def get(self, request, order_id: str):
        return Response(_out(self._get(request, order_id)))

    @extend_schema(responses={204: None})
    def delete(self, request, order_id: str):
        services.order_delete(order=self._get(request, order_id), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
