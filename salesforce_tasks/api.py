"""API of the sales-force workflow: visits, customer and team targets, bonus KPIs, results and bonus.

Every endpoint checks roles with ``RolePermission`` and scopes rows with ``customer_scope`` (reps:
their pair's customers; managers: their teams'; finance: all, read-only). Writes go through the
services; their ValidationError/PermissionDenied become 400/403 in ``config.api.exception_handler``.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import FINANCE, MANAGER, REP, RolePermission
from customers import policy
from customers.models import Customer, Level, Period

from . import bonus, scopes, selectors, services
from .models import BonusKpi, CustomerTarget, RepPair, SalesRep, Team, TeamTarget, Visit

MONEY = {"max_digits": 16, "decimal_places": 2}
PERIOD_PARAM = OpenApiParameter(
    "period", OpenApiTypes.INT, description="Period name (the year it starts); the latest computed one if omitted."
)


def _period_or_404(name) -> Period:
    period = selectors.period_resolve(name=name)
    if period is None:
        known = ", ".join(str(n) for n in selectors.period_names()) or "none yet"
        raise exceptions.NotFound(f"Unknown period '{name}'. Known periods: {known}.")
    return period


def _period_by_name(name) -> Period:
    period = selectors.period_resolve(name=name) if name not in (None, "") else None
    if period is None:
        known = ", ".join(str(n) for n in selectors.period_names()) or "none yet"
        raise serializers.ValidationError({"period": [f"Unknown period '{name}'. Known periods: {known}."]})
    return period


def _scoped_customer(user, external_id: str) -> Customer:
    customer = policy.customer_scope(user).filter(external_id=external_id).first()
    if customer is None:
        raise serializers.ValidationError({"customer_id": ["Unknown customer (or not in your portfolio)."]})
    return customer


class ServiceModelViewSet(viewsets.ModelViewSet):
    """A model viewset whose writes go through the app's services.

    The serializer parses and validates the input; ``write(data, instance)`` calls the service
    (create when ``instance`` is None) and ``remove(instance)`` deletes through it.
    """

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)

    def write(self, data: dict, instance=None):
        raise NotImplementedError

    def remove(self, instance) -> None:
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.write(serializer.validated_data)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        return Response(self.get_serializer(self.write(serializer.validated_data, instance)).data)

    def perform_destroy(self, instance):
        self.remove(instance)


# --- visits -----------------------------------------------------------------------------------


class VisitSerializer(serializers.ModelSerializer):
    rep = serializers.SlugRelatedField(
        slug_field="code",
        queryset=SalesRep.objects.all(),
        required=False,
        help_text="The rep's code; a rep logging for themself may leave it out.",
    )
    customer_id = serializers.CharField(
        source="customer.external_id", max_length=64, help_text="The customer's external id."
    )
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    period = serializers.IntegerField(source="period.name", read_only=True)
    minutes = serializers.IntegerField(min_value=1, max_value=services.MAX_VISIT_MINUTES)

    class Meta:
        model = Visit
        fields = [
            "id",
            "rep",
            "customer_id",
            "customer_name",
            "date",
            "minutes",
            "kind",
            "outcome",
            "next_step",
            "period",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class VisitFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period__name", help_text="Period name.")
    customer_id = django_filters.CharFilter(field_name="customer__external_id", help_text="Customer external id.")
    rep = django_filters.CharFilter(field_name="rep__code", help_text="Rep code.")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Visit
        fields = ["period", "customer_id", "rep", "kind", "date_from", "date_to"]


@extend_schema_view(
    list=extend_schema(summary="Visits and calls in your scope", tags=["sales force"]),
    retrieve=extend_schema(summary="One visit", tags=["sales force"]),
    create=extend_schema(summary="Log a visit or call (reps, for their own portfolio)", tags=["sales force"]),
    update=extend_schema(summary="Change your own visit", tags=["sales force"]),
    partial_update=extend_schema(summary="Change your own visit", tags=["sales force"]),
    destroy=extend_schema(summary="Delete your own visit", tags=["sales force"]),
)
class VisitViewSet(ServiceModelViewSet):
    queryset = Visit.objects.none()
    serializer_class = VisitSerializer
    write_roles = (REP, MANAGER)
    filterset_class = VisitFilter
    ordering_fields = ["date", "minutes", "id"]
    ordering = ["-date", "-id"]
    search_fields = ["customer__name", "outcome", "next_step"]

    def get_queryset(self):
        return selectors.visit_list(user=self.request.user)

    def _rep(self, data) -> SalesRep:
        rep = data.get("rep")
        if rep is not None:
            return rep
        own = policy.rep_for_user(self.request.user)
        if own is None:
            raise serializers.ValidationError({"rep": ["Give the rep's code: your user is not a sales rep."]})
        return own

    def write(self, data, instance=None):
        user = self.request.user
        values = {k: data[k] for k in ("date", "minutes", "kind", "outcome", "next_step") if k in data}
        if "customer" in data:
            values["customer"] = _scoped_customer(user, data["customer"]["external_id"])
        if instance is None:
            return services.visit_log(rep=self._rep(data), acting_user=user, **values)
        if "rep" in data and data["rep"] != instance.rep:
            raise serializers.ValidationError({"rep": ["A visit's rep cannot change."]})
        return services.visit_update(visit=instance, acting_user=user, **values)

    def remove(self, instance):
        services.visit_delete(visit=instance, acting_user=self.request.user)


# --- customer targets -------------------------------------------------------------------------


class TargetProposalSerializer(serializers.Serializer):
    target_level = serializers.CharField(allow_blank=True)
    target_revenue = serializers.DecimalField(allow_null=True, **MONEY)
    target_profit = serializers.DecimalField(allow_null=True, **MONEY)
    seasonality = serializers.ListField(child=serializers.FloatField(), allow_null=True)


class CustomerTargetSerializer(serializers.ModelSerializer):
    customer_id = serializers.CharField(
        source="customer.external_id", max_length=64, help_text="The customer's external id."
    )
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    period = serializers.IntegerField(source="period.name", help_text="Period name.")
    target_level = serializers.ChoiceField(
        choices=[(level, label) for level, label in Level.choices if level in selectors.ACTIVE_LEVELS],
        required=False,
        allow_blank=True,
        help_text="The level to reach (top, big, medium or small).",
    )
    seasonality = serializers.ListField(
        child=serializers.FloatField(min_value=0, max_value=100),
        min_length=12,
        max_length=12,
        required=False,
        allow_null=True,
        help_text="12 monthly percentages summing to 100; null for an even split.",
    )
    proposed_by_pair = serializers.BooleanField(
        read_only=True, help_text="Proposed by the pair, awaiting a manager's approval."
    )
    proposal = serializers.SerializerMethodField(
        help_text="A rep's change to this approved target, awaiting a manager (the values above stay until then)."
    )

    class Meta:
        model = CustomerTarget
        fields = [
            "id",
            "customer_id",
            "customer_name",
            "period",
            "target_level",
            "target_revenue",
            "target_profit",
            "seasonality",
            "proposed_by_pair",
            "proposal",
        ]
        read_only_fields = ["id"]

    @extend_schema_field(TargetProposalSerializer(allow_null=True))
    def get_proposal(self, obj: CustomerTarget) -> dict | None:
        if not obj.proposal_pending:
            return None
        return TargetProposalSerializer(
            {
                "target_level": obj.proposal_level,
                "target_revenue": obj.proposal_revenue,
                "target_profit": obj.proposal_profit,
                "seasonality": obj.proposal_seasonality,
            }
        ).data


class CustomerTargetFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period__name")
    customer_id = django_filters.CharFilter(field_name="customer__external_id")

    class Meta:
        model = CustomerTarget
        fields = ["period", "customer_id", "proposed_by_pair"]


@extend_schema_view(
    list=extend_schema(summary="Customer targets in your scope", tags=["targets"]),
    retrieve=extend_schema(summary="One customer target", tags=["targets"]),
    create=extend_schema(
        summary="Set a customer's target for a period (managers) or propose one (reps); upsert", tags=["targets"]
    ),
    update=extend_schema(summary="Change a customer target", tags=["targets"]),
    partial_update=extend_schema(summary="Change a customer target", tags=["targets"]),
    destroy=extend_schema(summary="Delete a target (reps: only their own proposals)", tags=["targets"]),
)
class CustomerTargetViewSet(ServiceModelViewSet):
    queryset = CustomerTarget.objects.none()
    serializer_class = CustomerTargetSerializer
    write_roles = (REP, MANAGER)
    filterset_class = CustomerTargetFilter
    ordering_fields = ["id", "target_revenue", "target_profit"]
    ordering = ["id"]
    search_fields = ["customer__name", "customer__external_id"]

    def get_queryset(self):
        return scopes.customer_target_scope(self.request.user).select_related("customer", "period")

    def write(self, data, instance=None):
        user = self.request.user
        if instance is None:
            customer = _scoped_customer(user, data["customer"]["external_id"])
            period = _period_by_name(data["period"]["name"])
        else:
            customer, period = instance.customer, instance.period
            if "customer" in data and data["customer"]["external_id"] != customer.external_id:
                raise serializers.ValidationError({"customer_id": ["A target's customer cannot change."]})
            if "period" in data and data["period"]["name"] != period.name:
                raise serializers.ValidationError({"period": ["A target's period cannot change."]})

        def value(name, default=None):
            if name in data:
                return data[name]
            return getattr(instance, name) if instance is not None else default

        return services.customer_target_set(
            customer=customer,
            period=period,
            acting_user=user,
            target_level=value("target_level", ""),
            target_revenue=value("target_revenue"),
            target_profit=value("target_profit"),
            seasonality=value("seasonality"),
        )

    def remove(self, instance):
        services.customer_target_delete(target=instance, acting_user=self.request.user)

    @extend_schema(
        summary="Approve a pair's proposed target (managers)",
        request=None,
        responses={200: CustomerTargetSerializer},
        tags=["targets"],
    )
    @action(detail=True, methods=["post"], permission_classes=[RolePermission], write_roles=(MANAGER,))
    def approve(self, request, pk=None):
        target = services.customer_target_approve(target=self.get_object(), acting_user=request.user)
        return Response(self.get_serializer(target).data)

    @extend_schema(
        summary="Reject a proposed target or proposed change (managers); a rejected new target is deleted",
        request=None,
        responses={200: CustomerTargetSerializer, 204: None},
        tags=["targets"],
    )
    @action(detail=True, methods=["post"], permission_classes=[RolePermission], write_roles=(MANAGER,))
    def reject(self, request, pk=None):
        target = services.customer_target_reject(target=self.get_object(), acting_user=request.user)
        if target is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(target).data)


# --- team targets -----------------------------------------------------------------------------


class TeamTargetSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    team_name = serializers.CharField(source="team.name", read_only=True)
    period = serializers.IntegerField(source="period.name", help_text="Period name.")
    actual = serializers.SerializerMethodField(help_text="Computed from the data (retention in %).")

    class Meta:
        model = TeamTarget
        fields = ["id", "team", "team_name", "period", "kind", "target", "actual"]
        read_only_fields = ["id"]

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    def get_actual(self, obj) -> str | None:
        cache = self.context.setdefault("_actuals", {})
        key = (obj.period_id, obj.team_id)
        if key not in cache:
            cache[key] = selectors.team_target_actuals(period=obj.period, team_ids=[obj.team_id])[obj.team_id]
        value = cache[key].get(obj.kind)
        return None if value is None else f"{Decimal(value):.2f}"


class TeamTargetFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period__name")

    class Meta:
        model = TeamTarget
        fields = ["period", "team", "kind"]


@extend_schema_view(
    list=extend_schema(summary="Team targets of your teams, with actuals", tags=["targets"]),
    retrieve=extend_schema(summary="One team target", tags=["targets"]),
    create=extend_schema(
        summary="Set a team target (the team's manager); upsert by team, period and kind", tags=["targets"]
    ),
    update=extend_schema(summary="Change a team target", tags=["targets"]),
    partial_update=extend_schema(summary="Change a team target", tags=["targets"]),
    destroy=extend_schema(summary="Delete a team target", tags=["targets"]),
)
class TeamTargetViewSet(ServiceModelViewSet):
    queryset = TeamTarget.objects.none()
    serializer_class = TeamTargetSerializer
    write_roles = (MANAGER,)
    filterset_class = TeamTargetFilter
    ordering_fields = ["id", "kind", "target"]
    ordering = ["id"]

    def get_queryset(self):
        return TeamTarget.objects.filter(team__in=policy.teams_for_user(self.request.user)).select_related(
            "team", "period"
        )

    def write(self, data, instance=None):
        if instance is None:
            team, kind, period = data["team"], data["kind"], _period_by_name(data["period"]["name"])
        else:
            team, kind, period = instance.team, instance.kind, instance.period
            changed = (
                data.get("team", team) != team
                or data.get("kind", kind) != kind
                or ("period" in data and data["period"]["name"] != period.name)
            )
            if changed:
                raise serializers.ValidationError("Team, period and kind of a target cannot change; create another.")
        target = data["target"] if "target" in data else instance.target
        return services.team_target_set(
            team=team, period=period, kind=kind, target=target, acting_user=self.request.user
        )

    def remove(self, instance):
        services.team_target_delete(target=instance, acting_user=self.request.user)


# --- bonus KPIs -------------------------------------------------------------------------------


class WeightPercentField(serializers.DecimalField):
    """A KPI weight in percent at the API (20 = 20 %), stored and computed as a fraction (0.2)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("help_text", "Weight in percent (20 = 20 %); a rep's or pair's weights add up to 100.")
        super().__init__(**kwargs)

    default_error_messages = {"weight_range": "Give the weight in percent, from 0 to 100 (20 = 20 %)."}

    def to_internal_value(self, data):
        percent = super().to_internal_value(data)
        if not Decimal(0) <= percent <= Decimal(100):  # checked in percent, before the unit changes
            self.fail("weight_range")
        return bonus.weight_fraction(percent)

    def to_representation(self, value):
        return super().to_representation(bonus.weight_percent(value))


class BonusKpiSerializer(serializers.ModelSerializer):
    period = serializers.IntegerField(source="period.name", help_text="Period name.")
    weight = WeightPercentField()
    rep = serializers.SlugRelatedField(
        slug_field="code",
        queryset=SalesRep.objects.all(),
        required=False,
        allow_null=True,
        help_text="Rep code (or set pair).",
    )
    pair = serializers.SlugRelatedField(
        slug_field="code",
        queryset=RepPair.objects.all(),
        required=False,
        allow_null=True,
        help_text="Pair code (or set rep).",
    )

    class Meta:
        model = BonusKpi
        fields = ["id", "period", "rep", "pair", "metric", "weight", "threshold", "target", "cap", "base_amount"]
        read_only_fields = ["id"]


class BonusKpiFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period__name")
    rep = django_filters.CharFilter(field_name="rep__code")
    pair = django_filters.CharFilter(field_name="pair__code")

    class Meta:
        model = BonusKpi
        fields = ["period", "rep", "pair", "metric"]


@extend_schema_view(
    list=extend_schema(summary="Bonus KPIs of the reps and pairs you see", tags=["bonus"]),
    retrieve=extend_schema(summary="One bonus KPI", tags=["bonus"]),
    create=extend_schema(summary="Set a bonus KPI on a rep or a pair (the team's manager)", tags=["bonus"]),
    update=extend_schema(summary="Change a bonus KPI", tags=["bonus"]),
    partial_update=extend_schema(summary="Change a bonus KPI", tags=["bonus"]),
    destroy=extend_schema(summary="Delete a bonus KPI", tags=["bonus"]),
)
class BonusKpiViewSet(ServiceModelViewSet):
    queryset = BonusKpi.objects.none()
    serializer_class = BonusKpiSerializer
    write_roles = (MANAGER,)
    filterset_class = BonusKpiFilter
    ordering_fields = ["id", "metric", "weight"]
    ordering = ["id"]

    def get_queryset(self):
        return scopes.bonus_kpi_scope(self.request.user).select_related("period", "rep", "pair")

    def write(self, data, instance=None):
        values = {k: v for k, v in data.items() if k != "period"}
        if "period" in data:
            values["period"] = _period_by_name(data["period"]["name"])
        return services.bonus_kpi_save(kpi=instance, acting_user=self.request.user, **values)

    def remove(self, instance):
        services.bonus_kpi_delete(kpi=instance, acting_user=self.request.user)


# --- results and bonus --------------------------------------------------------------------------


class MoneyRowSerializer(serializers.Serializer):
    revenue = serializers.DecimalField(**MONEY)
    gross_margin = serializers.DecimalField(**MONEY)
    margin_pct = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    allocated = serializers.DecimalField(help_text="Cost to serve, incl. financing cost.", **MONEY)
    profit = serializers.DecimalField(**MONEY)
    customers = serializers.IntegerField()
    loss_making_customers = serializers.IntegerField()


class RepRowSerializer(MoneyRowSerializer):
    rep_id = serializers.IntegerField()
    rep = serializers.CharField()
    role = serializers.ChoiceField(choices=["outside", "inside"])
    pair_id = serializers.IntegerField()
    pair = serializers.CharField()
    team_id = serializers.IntegerField()
    team = serializers.CharField()


class PairRowSerializer(MoneyRowSerializer):
    pair_id = serializers.IntegerField()
    pair = serializers.CharField()
    outside_rep = serializers.CharField()
    inside_rep = serializers.CharField()
    outside_share = serializers.DecimalField(max_digits=5, decimal_places=2)
    team_id = serializers.IntegerField()
    team = serializers.CharField()


class TeamRowSerializer(MoneyRowSerializer):
    team_id = serializers.IntegerField()
    team = serializers.CharField()


class RepResultsSerializer(serializers.Serializer):
    period = serializers.IntegerField()
    reps = RepRowSerializer(many=True)
    pairs = PairRowSerializer(many=True)
    teams = TeamRowSerializer(many=True)
    company = MoneyRowSerializer(allow_null=True, help_text="Finance only.")
    unassigned = MoneyRowSerializer(allow_null=True, help_text="Customers in no portfolio (finance only).")
    profit_computed = serializers.BooleanField()


class RepResultsView(APIView):
    """Customer profit credited per rep, pair and team (roll-up rep → pair → team → company)."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    write_roles = ()

    @extend_schema(
        parameters=[PERIOD_PARAM],
        responses={200: RepResultsSerializer},
        tags=["sales force"],
        summary="Customer profit per rep, pair and team",
    )
    def get(self, request):
        period = _period_or_404(request.query_params.get("period"))
        data = selectors.rep_results(period=period, user=request.user)
        return Response(RepResultsSerializer(data).data)


class KpiLineSerializer(serializers.Serializer):
    kpi_id = serializers.IntegerField(allow_null=True)
    metric = serializers.CharField()
    label = serializers.CharField()
    weight = WeightPercentField()
    threshold = serializers.DecimalField(max_digits=20, decimal_places=4)
    target = serializers.DecimalField(max_digits=20, decimal_places=4)
    cap = serializers.DecimalField(max_digits=8, decimal_places=3)
    base_amount = serializers.DecimalField(**MONEY)
    actual = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    attainment = serializers.DecimalField(max_digits=10, decimal_places=4)
    amount = serializers.DecimalField(**MONEY)


class SubjectBonusSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["pair", "rep"])
    subject_id = serializers.IntegerField()
    label = serializers.CharField()
    lines = KpiLineSerializer(many=True)
    total = serializers.DecimalField(**MONEY)


class RepBonusSerializer(serializers.Serializer):
    rep_id = serializers.IntegerField()
    rep = serializers.CharField()
    pair_id = serializers.IntegerField(allow_null=True)
    pair = serializers.CharField()
    own = SubjectBonusSerializer(allow_null=True, help_text="KPIs set on the rep.")
    own_total = serializers.DecimalField(**MONEY)
    from_pair = serializers.DecimalField(help_text="The rep's share of its pair's bonus.", **MONEY)
    total = serializers.DecimalField(**MONEY)


class BonusSerializer(serializers.Serializer):
    period = serializers.IntegerField()
    pairs = SubjectBonusSerializer(many=True)
    reps = RepBonusSerializer(many=True)


class BonusView(APIView):
    """Attainment and bonus per rep (own KPIs + share of the pair's bonus) and per pair."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    write_roles = ()

    @extend_schema(
        parameters=[PERIOD_PARAM], responses={200: BonusSerializer}, tags=["bonus"], summary="Bonus per rep and pair"
    )
    def get(self, request):
        period = _period_or_404(request.query_params.get("period"))
        data = selectors.bonus_overview(period=period, user=request.user)
        return Response(BonusSerializer({"period": data["period"], "pairs": data["pairs"], "reps": data["reps"]}).data)


class ReassignSerializer(serializers.Serializer):
    customer_id = serializers.CharField(max_length=64, help_text="The customer's external id.")
    pair = serializers.SlugRelatedField(slug_field="code", queryset=RepPair.objects.all(), help_text="Pair code.")


class ReassignOutSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    pair = serializers.CharField()
    start = serializers.DateField()


class CustomerReassignView(APIView):
    """Move a customer to another pair from today (managers): the open assignment ends yesterday."""

    permission_classes = [RolePermission]
    read_roles = (MANAGER,)
    write_roles = (MANAGER,)

    @extend_schema(
        request=ReassignSerializer,
        responses={201: ReassignOutSerializer},
        tags=["sales force"],
        summary="Reassign a customer to another pair",
    )
    def post(self, request):
        serializer = ReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = get_object_or_404(
            policy.customer_scope(request.user), external_id=serializer.validated_data["customer_id"]
        )
        assignment = services.customer_reassign(
            customer=customer, pair=serializer.validated_data["pair"], acting_user=request.user
        )
        out = {"customer_id": customer.external_id, "pair": assignment.pair.code, "start": assignment.start}
        return Response(ReassignOutSerializer(out).data, status=status.HTTP_201_CREATED)
