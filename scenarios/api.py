"""API of the scenarios app: value segments, customer values, segment targets, scenarios, survey answers.

Views parse input, check the role and the customer scope, and call a selector or service. Money is a
decimal string in euros; shares are fractions (0.85 for 85 %).
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import FINANCE, MANAGER, REP, RolePermission
from customers.models import Period
from customers.policy import customer_scope, customer_scope_ids
from customers.selectors import period_get, period_list

from . import reports, selectors, services
from .models import CustomerValue, Scenario, Segment, SegmentTarget, SurveyResponse

MONEY = {"max_digits": 16, "decimal_places": 2}
PERIOD_PARAM = OpenApiParameter(
    "period", OpenApiTypes.INT, description="Period name (fiscal year); the latest period when omitted."
)


def period_from(request) -> Period:
    """The ``?period=`` of a request (latest when omitted); 400 with the known periods when unknown."""
    name = request.query_params.get("period")
    period = period_get(name=name)
    if period is None:
        known = ", ".join(str(p.name) for p in period_list()) or "none yet: import orders first"
        what = f"Unknown period '{name}'." if name else "There are no periods yet."
        raise ValidationError({"period": [f"{what} Known periods: {known}."]})
    return period


# --- segments -------------------------------------------------------------------------------------


class SegmentRowSerializer(serializers.Serializer):
    segment = serializers.ChoiceField(choices=Segment.choices)
    label = serializers.CharField()
    customers = serializers.IntegerField()
    revenue = serializers.DecimalField(**MONEY)
    profit = serializers.DecimalField(**MONEY)
    clv = serializers.DecimalField(**MONEY, help_text="Sum of the customers' customer value (CLV).")
    strategy = serializers.CharField()


class SegmentsSerializer(serializers.Serializer):
    period = serializers.IntegerField()
    computed = serializers.BooleanField(help_text="False while the customer values of the period are not stored.")
    clv_threshold = serializers.DecimalField(**MONEY)
    clv_threshold_is_median = serializers.BooleanField()
    product_value_threshold = serializers.FloatField()
    active_customers = serializers.IntegerField()
    segments = SegmentRowSerializer(many=True)


class SegmentsView(APIView):
    """The 2 x 2 value segments of the active customers of a period, within your customer scope."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)

    @extend_schema(parameters=[PERIOD_PARAM], responses={200: SegmentsSerializer})
    def get(self, request):
        period = period_from(request)
        data = reports.segments_report(period=period.name, scope_ids=customer_scope_ids(request.user))
        return Response(SegmentsSerializer(data).data)


# --- customer values ------------------------------------------------------------------------------


class CustomerValueSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_id = serializers.CharField(source="customer.external_id", read_only=True)
    name = serializers.CharField(source="customer.name", read_only=True)
    period = serializers.IntegerField(source="period.name", read_only=True)
    product_value = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True, read_only=True)

    class Meta:
        model = CustomerValue
        fields = ["customer", "customer_id", "name", "period", "clv", "method", "product_value", "segment"]


class CustomerValueFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=Segment.choices)

    class Meta:
        model = CustomerValue
        fields = ["segment", "method"]


@extend_schema_view(get=extend_schema(parameters=[PERIOD_PARAM]))
class CustomerValueList(ListAPIView):
    """Customer value (CLV), product value and segment of every customer in your scope, for a period."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    serializer_class = CustomerValueSerializer
    filterset_class = CustomerValueFilter
    search_fields = ["customer__name", "customer__external_id"]
    ordering_fields = ["clv", "product_value", "customer__name", "customer__external_id"]
    ordering = ["-clv", "customer__external_id"]
    queryset = CustomerValue.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomerValue.objects.none()
        period = period_from(self.request)
        qs = CustomerValue.objects.filter(period=period).select_related("customer", "period")
        scope_ids = customer_scope_ids(self.request.user)
        if scope_ids is not None:
            qs = qs.filter(customer_id__in=scope_ids)
        return qs.order_by(F("clv").desc(), "customer__external_id")


# --- segment targets ------------------------------------------------------------------------------


class SegmentTargetSerializer(serializers.ModelSerializer):
    period = serializers.SlugRelatedField(slug_field="name", queryset=Period.objects.all())
    target = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        help_text="Shares as fractions (0.85 = 85 %); acquisition as a number of new customers.",
    )

    class Meta:
        model = SegmentTarget
        fields = ["id", "period", "segment", "metric", "target"]
        validators = []  # POST upserts by (period, segment, metric): the service decides


class SegmentTargetFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period__name", help_text="Period name.")

    class Meta:
        model = SegmentTarget
        fields = ["period", "segment", "metric"]


class MetricActualSerializer(serializers.Serializer):
    metric = serializers.CharField(help_text="One of " + ", ".join(SegmentTarget.Metric.values) + ".")
    actual = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    met = serializers.BooleanField(allow_null=True)
    numerator = serializers.IntegerField(help_text="Customers, or revenue in cents for revenue retention.")
    denominator = serializers.IntegerField(allow_null=True)


class SegmentActualSerializer(serializers.Serializer):
    segment = serializers.ChoiceField(choices=Segment.choices)
    metrics = MetricActualSerializer(many=True)


class TargetReportSerializer(serializers.Serializer):
    period = serializers.IntegerField()
    previous = serializers.IntegerField(allow_null=True)
    segments = SegmentActualSerializer(many=True)


class SegmentTargetViewSet(viewsets.ModelViewSet):
    """Targets per segment and period; POST sets (upserts) one, managers only. ``actuals`` compares."""

    permission_classes = [RolePermission]
    read_roles = (MANAGER, FINANCE)
    write_roles = (MANAGER,)
    serializer_class = SegmentTargetSerializer
    filterset_class = SegmentTargetFilter
    ordering_fields = ["period__name", "segment", "metric"]
    queryset = SegmentTarget.objects.select_related("period").order_by("period__name", "segment", "metric")

    def _save(self, data: dict) -> SegmentTarget:
        return services.segment_target_set(
            period=data["period"],
            segment=data["segment"],
            metric=data["metric"],
            target=data["target"],
            acting_user=self.request.user,
        )

    def perform_create(self, serializer):
        serializer.instance = self._save(serializer.validated_data)

    def perform_update(self, serializer):
        instance = serializer.instance
        data = {
            "period": instance.period,
            "segment": instance.segment,
            "metric": instance.metric,
            "target": instance.target,  # PATCH {} changes nothing
            **serializer.validated_data,
        }
        if (data["period"], data["segment"], data["metric"]) != (instance.period, instance.segment, instance.metric):
            raise ValidationError("Period, segment and metric of a target cannot change; create another target.")
        serializer.instance = self._save(data)

    def perform_destroy(self, instance):
        services.segment_target_set(
            period=instance.period,
            segment=instance.segment,
            metric=instance.metric,
            target=None,
            acting_user=self.request.user,
        )

    @extend_schema(parameters=[PERIOD_PARAM], responses={200: TargetReportSerializer})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def actuals(self, request):
        """Actual against target per segment and metric for a period (definitions on the targets page)."""
        period = period_from(request)
        report = selectors.segment_target_report(period=period)
        data = {"period": period.name, "previous": report["previous"], "segments": report["rows"]}
        return Response(TargetReportSerializer(data).data)


# --- scenarios ------------------------------------------------------------------------------------


class RetentionPointsSerializer(serializers.Serializer):
    top = serializers.FloatField(default=0.0)
    big = serializers.FloatField(default=0.0)
    medium = serializers.FloatField(default=0.0)
    small = serializers.FloatField(default=0.0)


class LeversSerializer(serializers.Serializer):
    retention_change_points = RetentionPointsSerializer(
        required=False, help_text="Percentage points a year moved from churn to staying, per level."
    )
    upward_migration_points = serializers.FloatField(required=False, help_text="Points a year moved one level up.")
    acquisition_growth = serializers.FloatField(required=False, help_text="Yearly growth of new customers (0.1).")
    spend_growth = serializers.FloatField(required=False, help_text="Yearly growth of spend per customer.")
    cost_to_serve_change = serializers.FloatField(required=False, help_text="Yearly change of cost to serve.")
    discount_rate = serializers.FloatField(required=False, help_text="For discounted profit and NPV (0.08).")
    horizon = serializers.IntegerField(required=False, help_text="Years to project (1-10).")


class ScenarioSerializer(serializers.ModelSerializer):
    base_period = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Period.objects.all(),
        allow_null=True,
        required=False,
        help_text="Period name; null = the latest period.",
    )
    levers = LeversSerializer(required=False)

    class Meta:
        model = Scenario
        fields = ["id", "name", "base_period", "built_in", "is_plan", "levers", "created_at"]
        read_only_fields = ["built_in", "is_plan", "created_at"]


class ProjectionYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    period = serializers.IntegerField()
    customers_top = serializers.FloatField()
    customers_big = serializers.FloatField()
    customers_medium = serializers.FloatField()
    customers_small = serializers.FloatField()
    customers_inactive = serializers.FloatField()
    customers_active = serializers.FloatField()
    revenue = serializers.DecimalField(**MONEY)
    gross_margin = serializers.DecimalField(**MONEY)
    cost_to_serve = serializers.DecimalField(**MONEY)
    profit = serializers.DecimalField(**MONEY)
    discounted_profit = serializers.DecimalField(**MONEY)
    npv = serializers.DecimalField(**MONEY)


class ProjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scenario = serializers.CharField()
    built_in = serializers.BooleanField()
    is_plan = serializers.BooleanField()
    base_period = serializers.IntegerField()
    base_period_is_latest = serializers.BooleanField()
    levers = LeversSerializer()
    years = ProjectionYearSerializer(many=True)


class ScenarioCopySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ScenarioViewSet(viewsets.ModelViewSet):
    """Growth scenarios: managers create, change and delete their own (built-ins cannot be deleted)."""

    permission_classes = [RolePermission]
    read_roles = (MANAGER, FINANCE)
    write_roles = (MANAGER,)
    serializer_class = ScenarioSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    queryset = Scenario.objects.select_related("base_period")

    def list(self, request, *args, **kwargs):
        services.scenarios_builtin_ensure()
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.scenario_create(
            name=data["name"],
            base_period=data.get("base_period"),
            levers=data.get("levers") or {},
            acting_user=self.request.user,
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        levers = data.get("levers")
        if levers is not None and serializer.partial:
            levers = {**serializer.instance.levers, **levers}
        serializer.instance = services.scenario_update(
            scenario=serializer.instance,
            name=data.get("name"),
            base_period=data["base_period"] if "base_period" in data else ...,
            levers=levers,
            acting_user=self.request.user,
        )

    def perform_destroy(self, instance):
        services.scenario_delete(scenario=instance, acting_user=self.request.user)

    @extend_schema(responses={200: ProjectionSerializer})
    @action(detail=True, methods=["get"])
    def projection(self, request, pk=None):
        """The scenario's projection year by year (year 0 = base period); money in euros."""
        scenario = self.get_object()  # DRF's lookup: a malformed id is a 404, not a 500
        try:
            data = reports.scenario_projection_data(scenario)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return Response(ProjectionSerializer(data).data)

    @extend_schema(request=None, responses={200: ScenarioSerializer})
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        """Make this scenario the plan (there is one plan)."""
        scenario = services.scenario_make_plan(scenario=self.get_object(), acting_user=request.user)
        return Response(ScenarioSerializer(scenario).data)

    @extend_schema(request=ScenarioCopySerializer, responses={201: ScenarioSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request, pk=None):
        """Copy a scenario (built-ins too) under a new name."""
        scenario = self.get_object()
        body = ScenarioCopySerializer(data=request.data)  # a JSON array or string is a 400, not a 500
        body.is_valid(raise_exception=True)
        name = body.validated_data.get("name") or ""
        copy = services.scenario_copy(scenario=scenario, name=name, acting_user=request.user)
        return Response(ScenarioSerializer(copy).data, status=status.HTTP_201_CREATED)


# --- surveys --------------------------------------------------------------------------------------


class SurveyResponseSerializer(serializers.ModelSerializer):
    customer_id = serializers.CharField(max_length=64, help_text="The customer's external id.")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    round = serializers.CharField(max_length=50, required=False, allow_blank=True, help_text="Default: the year.")
    score = serializers.DecimalField(max_digits=4, decimal_places=2, min_value=0, max_value=10)

    class Meta:
        model = SurveyResponse
        fields = ["id", "customer_id", "customer_name", "date", "round", "score", "comment"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["customer_id"] = instance.customer.external_id
        return data


class SurveyResponseFilter(django_filters.FilterSet):
    customer_id = django_filters.CharFilter(field_name="customer__external_id", help_text="External customer id.")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = SurveyResponse
        fields = ["customer_id", "round", "date_from", "date_to"]


class SurveyResponseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Survey answers of the customers in your scope; reps and managers record one (upsert by customer,
    date and round); product value and segments are recomputed after commit."""

    permission_classes = [RolePermission]
    read_roles = (REP, MANAGER, FINANCE)
    write_roles = (REP, MANAGER)
    serializer_class = SurveyResponseSerializer
    filterset_class = SurveyResponseFilter
    search_fields = ["customer__name", "customer__external_id", "comment"]
    ordering_fields = ["date", "score", "customer__external_id"]
    queryset = SurveyResponse.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SurveyResponse.objects.none()
        return selectors.survey_response_list(scope_ids=customer_scope_ids(self.request.user))

    def perform_create(self, serializer):
        data = serializer.validated_data
        customer = customer_scope(self.request.user).filter(external_id=data["customer_id"]).first()
        if customer is None:
            raise ValidationError({"customer_id": ["Unknown customer (or not in your portfolio)."]})
        serializer.instance = services.survey_response_record(
            customer=customer,
            date=data["date"],
            score=data["score"],
            round=data.get("round", ""),
            comment=data.get("comment", ""),
            acting_user=self.request.user,
        )
