"""API of the actions on loss-making customers: list, create, transition, what-if and suggestions.

Reps and managers write; finance reads. Rows are scoped by ``customer_scope``: a customer or action
outside it is a 404 (or a 400 naming the customer, on create). Services raise ValidationError /
PermissionDenied, which ``config.api.exception_handler`` turns into 400 / 403.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action as route
from rest_framework.response import Response

from config.money import to_decimal
from config.roles import FINANCE, MANAGER, REP, RolePermission
from customers.models import Customer, Period
from customers.policy import customer_scope

from . import selectors, services
from .models import Action

MONEY = {"max_digits": 16, "decimal_places": 2}
_TYPE_HELP = "; ".join(f"{value}: {label}" for value, label in Action.Type.choices)


# Inline (allOf), so the schema's enum components do not collide with another app's field "type".
@extend_schema_field({"allOf": [{"type": "string", "enum": list(Action.Type.values)}], "description": _TYPE_HELP})
class ActionTypeField(serializers.ChoiceField):
    """The action type."""

    def __init__(self, **kwargs):
        super().__init__(choices=Action.Type.choices, **kwargs)


class ActionSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    period = serializers.IntegerField(source="period.name", read_only=True)
    type = ActionTypeField(read_only=True)
    proposed_by = serializers.CharField(source="proposed_by.username", read_only=True, allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, allow_null=True)
    realised_effect = serializers.SerializerMethodField(
        help_text="Customer profit in the next period minus in the action's period (done actions, once the "
        "next period has figures)."
    )

    class Meta:
        model = Action
        fields = [
            "id",
            "customer",
            "customer_name",
            "period",
            "type",
            "parameter",
            "description",
            "state",
            "notes",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "agreed_at",
            "done_at",
            "dropped_at",
            "whatif_customer_profit",
            "whatif_company_profit_change",
            "realised_effect",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(allow_null=True, **MONEY))
    def get_realised_effect(self, obj: Action):
        cents = self.context.get("realised", {}).get(obj.id)
        return None if cents is None else str(to_decimal(cents))


class ActionInputSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The customer's external id.")
    period = serializers.IntegerField(
        required=False, help_text="Period name (the year it starts); the latest with profit figures if omitted."
    )
    type = ActionTypeField()
    parameter = serializers.DecimalField(
        required=False,
        allow_null=True,
        help_text="€ for min_revenue, min_order_size and order_surcharge; margin points for discount_change; "
        "% of visit minutes for move_to_inside (default 100); empty for part_ways and other.",
        **MONEY,
    )

    def validate_customer(self, value: str) -> Customer:
        customer = customer_scope(self.context["request"].user).filter(external_id=value).first()
        if customer is None:
            raise serializers.ValidationError("Unknown customer (or not in your portfolio).")
        return customer

    def validate_period(self, value: int) -> Period:
        period = selectors.action_period(name=value)
        if period is None:
            known = ", ".join(str(p) for p in Period.objects.order_by("name").values_list("name", flat=True))
            raise serializers.ValidationError(f"Unknown period '{value}'. Known periods: {known or 'none yet'}.")
        return period

    def validate(self, attrs: dict) -> dict:
        if "period" not in attrs:
            attrs["period"] = selectors.action_period()
            if attrs["period"] is None:
                raise serializers.ValidationError({"period": ["There are no periods yet: import orders first."]})
        return attrs


class ActionCreateSerializer(ActionInputSerializer):
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[Action.State.AGREED, Action.State.DONE, Action.State.DROPPED],
        help_text="agreed or dropped (manager; from proposed), done (rep or manager; from agreed), dropped "
        "(manager; from agreed).",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class WhatIfSerializer(serializers.Serializer):
    customer = serializers.CharField()
    period = serializers.IntegerField()
    type = serializers.CharField()
    parameter = serializers.DecimalField(allow_null=True, **MONEY)
    computed = serializers.BooleanField(help_text="False for 'other': no computed effect (the figures are null).")
    customer_profit_before = serializers.DecimalField(allow_null=True, **MONEY)
    customer_profit_after = serializers.DecimalField(
        allow_null=True, help_text="Null when parting ways (the customer is gone).", **MONEY
    )
    company_profit_before = serializers.DecimalField(allow_null=True, **MONEY)
    company_profit_after = serializers.DecimalField(allow_null=True, **MONEY)
    company_profit_change = serializers.DecimalField(allow_null=True, **MONEY)
    others_change = serializers.DecimalField(
        allow_null=True, help_text="What the other customers (and unused capacity) gain or lose.", **MONEY
    )


class SuggestionSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    type = serializers.CharField()
    parameter = serializers.DecimalField(allow_null=True, **MONEY)
    customer_profit_after = serializers.DecimalField(allow_null=True, **MONEY)
    company_profit_change = serializers.DecimalField(**MONEY)
    others_change = serializers.DecimalField(**MONEY)
    bound = serializers.DecimalField(
        allow_null=True, help_text="The largest parameter the customer plausibly accepts (see docs/method.md).", **MONEY
    )
    break_even = serializers.DecimalField(
        allow_null=True, help_text="The parameter at which the customer's own profit reaches zero.", **MONEY
    )
    breaks_even = serializers.BooleanField(help_text="The customer's profit after the action is zero or more.")
    assumption = serializers.CharField(help_text="The assumption and the break-even, in words.")


class SuggestedCustomerSerializer(serializers.Serializer):
    customer = serializers.CharField(source="external_id")
    name = serializers.CharField()
    level = serializers.CharField()
    revenue = serializers.DecimalField(**MONEY)
    profit = serializers.DecimalField(**MONEY)
    suggestions = SuggestionSerializer(many=True)


class SuggestionsSerializer(serializers.Serializer):
    period = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    loss_making_count = serializers.IntegerField()
    loss_making = SuggestedCustomerSerializer(many=True)
    falling = SuggestedCustomerSerializer(many=True)


class ActionFilter(django_filters.FilterSet):
    period = django_filters.ModelChoiceFilter(
        field_name="period", queryset=Period.objects.all(), to_field_name="name", label="Period name"
    )
    state = django_filters.ChoiceFilter(choices=Action.State.choices)
    type = django_filters.ChoiceFilter(choices=Action.Type.choices)
    customer = django_filters.CharFilter(field_name="customer__external_id", label="Customer external id")

    class Meta:
        model = Action
        fields = ["period", "state", "type", "customer"]


def _whatif_out(customer: Customer, period: Period, action_type: str, effect) -> dict:
    if effect is None:
        figures = dict.fromkeys(
            [
                "customer_profit_before",
                "customer_profit_after",
                "company_profit_before",
                "company_profit_after",
                "company_profit_change",
                "others_change",
            ]
        )
        return {
            "customer": customer.external_id,
            "period": period.name,
            "type": action_type,
            "parameter": None,
            "computed": False,
            **figures,
        }
    return {
        "customer": customer.external_id,
        "period": period.name,
        "type": action_type,
        "parameter": effect.parameter,
        "computed": True,
        "customer_profit_before": to_decimal(effect.customer_profit_before_cents),
        "customer_profit_after": to_decimal(effect.customer_profit_after_cents),
        "company_profit_before": to_decimal(effect.company_profit_before_cents),
        "company_profit_after": to_decimal(effect.company_profit_after_cents),
        "company_profit_change": to_decimal(effect.company_profit_change_cents),
        "others_change": to_decimal(effect.others_change_cents),
    }


def _suggested(c: dict) -> dict:
    return {
        "external_id": c["external_id"],
        "name": c["name"],
        "level": c["level"],
        "revenue": to_decimal(c["revenue_cents"]),
        "profit": to_decimal(c["profit_cents"]),
        "suggestions": [selectors.suggestion_euros(s) for s in c["suggestions"]],
    }


@extend_schema_view(
    list=extend_schema(summary="Actions of the customers you may see (filter by period, state, type, customer)"),
    retrieve=extend_schema(summary="One action"),
)
class ActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Actions on loss-making customers: reps and managers propose and decide; finance reads."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    write_roles = (REP, MANAGER)
    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    ordering_fields = ["proposed_at", "state", "type", "whatif_company_profit_change", "customer__external_id"]
    search_fields = ["customer__external_id", "customer__name", "description"]
    ordering = ["-proposed_at", "-id"]
    queryset = Action.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Action.objects.none()
        return selectors.action_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = page if page is not None else list(queryset)
        context = {**self.get_serializer_context(), "realised": selectors.realised_effects(rows)}
        data = ActionSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        context = {**self.get_serializer_context(), "realised": selectors.realised_effects([instance])}
        return Response(ActionSerializer(instance, context=context).data)

    @extend_schema(
        summary="Propose an action; its what-if is computed and stored",
        request=ActionCreateSerializer,
        responses={201: ActionSerializer},
    )
    def create(self, request):
        ser = ActionCreateSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        created = services.action_propose(
            customer=data["customer"],
            period=data["period"],
            action_type=data["type"],
            parameter=data.get("parameter"),
            description=data["description"],
            note=data["note"],
            acting_user=request.user,
        )
        return Response(ActionSerializer(created, context={"realised": {}}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move an action to another state (agree, drop, mark done)",
        request=TransitionSerializer,
        responses={200: ActionSerializer},
    )
    @route(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        action = self.get_object()  # outside your scope: 404 before the body is read
        ser = TransitionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        changed = services.action_transition(
            action=action,
            state=ser.validated_data["state"],
            acting_user=request.user,
            note=ser.validated_data["note"],
        )
        realised = selectors.realised_effects([changed])
        return Response(ActionSerializer(changed, context={"realised": realised}).data)

    @extend_schema(
        summary="What-if of an action before it is proposed (nothing is saved)",
        request=ActionInputSerializer,
        responses={200: WhatIfSerializer},
    )
    @route(detail=False, methods=["post"])
    def whatif(self, request):
        ser = ActionInputSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        effect = selectors.action_whatif_get(
            customer=data["customer"], period=data["period"], action_type=data["type"], parameter=data.get("parameter")
        )
        out = _whatif_out(data["customer"], data["period"], data["type"], effect)
        return Response(WhatIfSerializer(out).data)

    @extend_schema(
        summary="Loss-making customers (and those falling towards a loss) with their actions ranked by what-if",
        parameters=[
            OpenApiParameter(
                "period", OpenApiTypes.INT, description="Period name; the latest with figures if omitted."
            ),
            OpenApiParameter("page", OpenApiTypes.INT, description="Page of loss-making customers (20 a page)."),
        ],
        filters=False,
        responses={200: SuggestionsSerializer},
    )
    @route(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def suggestions(self, request):
        name = request.query_params.get("period")
        period = selectors.action_period(name=name)
        if period is None:
            raise serializers.ValidationError({"period": [f"Unknown period '{name}'."]})
        data = selectors.action_suggestions(user=request.user, period=period, page=request.query_params.get("page"))
        out = {
            "period": period.name,
            "page": data["page"].number,
            "pages": data["page"].paginator.num_pages,
            "loss_making_count": data["loss_making_count"],
            "loss_making": [_suggested(c) for c in data["loss_making"]],
            "falling": [_suggested(c) for c in data["falling"]],
        }
        return Response(SuggestionsSerializer(out).data)
