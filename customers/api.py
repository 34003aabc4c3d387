"""REST API of the customers app, under /api/v1/: periods, customers, reports and imports.

Each view parses and validates its input, checks the role, calls a selector, a report builder or
an importer, and shapes the answer. Who may read which report rows and run which import, and which
customers every endpoint shows, is decided by ``customers.policy``.
"""

from __future__ import annotations

from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config import reports as report_registry
from config.intake import IMPORT_KINDS, ImportFailed
from config.roles import FINANCE, INTEGRATION, MANAGER, ROLES, RolePermission
from customers import policy
from customers.policy import customer_scope, customer_scope_ids

from . import reports, selectors
from .filters import CustomerPeriodFilter
from .models import Customer, CustomerPeriod, Period
from .views.imports import import_result_dict, run_uploaded_import

PERIOD_PARAMETER = OpenApiParameter(
    "period",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="Period name (the calendar year in which the fiscal year starts). Default: the latest period.",
)


# --- serializers ------------------------------------------------------------------------------------


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Period
        fields = ["id", "name", "start", "end"]


class CustomerRowSerializer(serializers.ModelSerializer):
    """A customer with its stored pyramid figures in one period. Money in euros (decimal strings)."""

    id = serializers.IntegerField(source="customer_id", read_only=True)
    external_id = serializers.CharField(source="customer.external_id", read_only=True)
    name = serializers.CharField(source="customer.name", read_only=True)
    status = serializers.CharField(source="customer.status", read_only=True)
    period = serializers.IntegerField(source="period.name", read_only=True)
    allocated_cost = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        read_only=True,
        help_text="Null until profit has been computed for the period (no cost pools yet).",
    )
    profit = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        read_only=True,
        help_text="Null until profit has been computed for the period (no cost pools yet).",
    )

    class Meta:
        model = CustomerPeriod
        fields = [
            "id",
            "external_id",
            "name",
            "status",
            "period",
            "level",
            "rank",
            "revenue",
            "gross_margin",
            "allocated_cost",
            "profit",
            "orders",
            "order_lines",
            "existing",
        ]
        read_only_fields = fields


class LevelHistorySerializer(serializers.Serializer):
    period = serializers.IntegerField(source="period__name")
    level = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    gross_margin = serializers.DecimalField(max_digits=16, decimal_places=2)
    orders = serializers.IntegerField()
    order_lines = serializers.IntegerField()


class CustomerDetailSerializer(serializers.ModelSerializer):
    pair = serializers.CharField(source="pair.code", allow_null=True, read_only=True)
    level_history = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "external_id", "name", "status", "industry", "city", "pair", "level_history"]
        read_only_fields = fields

    @extend_schema_field(LevelHistorySerializer(many=True))
    def get_level_history(self, obj: Customer) -> list[dict]:
        return LevelHistorySerializer(selectors.level_history(customer=obj), many=True).data


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv (UTF-8, comma or semicolon) or .xlsx file.")


class ImportResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Rows already stored with exactly these values.")
    periods = serializers.ListField(child=serializers.IntegerField())


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row: the header is row 1; 0 = the whole file.")
    column = serializers.CharField()
    value = serializers.CharField()
    reason = serializers.CharField()


class ImportErrorsSerializer(serializers.Serializer):
    errors = ImportRowErrorSerializer(many=True)
    total = serializers.IntegerField(help_text="Number of errors in the file (at most 1000 are listed).")


# --- views ------------------------------------------------------------------------------------------


def _period_from(request) -> Period | None:
    """The ``?period=`` (latest without one); 400 with the known periods for an unknown one."""
    name = request.query_params.get("period")
    if name in (None, "") and not Period.objects.exists():
        return None
    try:
        return reports.period_or_error(name)
    except reports.ReportError as exc:
        raise ValidationError({"period": [str(exc)]}) from None


@extend_schema(tags=["customers"])
class PeriodViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every period (fiscal year), oldest first."""

    queryset = Period.objects.order_by("name")
    serializer_class = PeriodSerializer
    permission_classes = [RolePermission]
    read_roles = ROLES
    filter_backends: list = []


@extend_schema(tags=["customers"], parameters=[PERIOD_PARAMETER])
class CustomerListView(generics.ListAPIView):
    """Customers in the caller's scope with their level, revenue, margin and profit in a period."""

    serializer_class = CustomerRowSerializer
    permission_classes = [RolePermission]
    read_roles = ROLES
    filter_backends = [DjangoFilterBackend]
    filterset_class = CustomerPeriodFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomerPeriod.objects.none()
        period = _period_from(self.request)
        if period is None:
            return CustomerPeriod.objects.none()
        return selectors.customer_period_list(
            period=period, scope_ids=customer_scope_ids(self.request.user)
        ).select_related("period")


@extend_schema(tags=["customers"])
class CustomerDetailView(generics.RetrieveAPIView):
    """One customer in the caller's scope (404 outside it) with its level history."""

    serializer_class = CustomerDetailSerializer
    permission_classes = [RolePermission]
    read_roles = ROLES

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        return customer_scope(self.request.user).select_related("pair")


class ReportView(APIView):
    """A registered report (``config.reports``) as JSON; managers and finance only."""

    permission_classes = [RolePermission]
    read_roles = (MANAGER, FINANCE)

    @extend_schema(
        tags=["reports"],
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="Report kind: pyramid, migration, retention, concentration, or any other registered kind.",
            ),
            PERIOD_PARAMETER,
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The report; money in euros, shares as fractions."),
            400: OpenApiResponse(DetailSerializer, description="Unknown period, or no report for it."),
            404: OpenApiResponse(DetailSerializer, description="Unknown report kind."),
        },
    )
    def get(self, request, kind: str):
        try:
            report = report_registry.get(kind)
        except KeyError:
            known = ", ".join(report_registry.kinds())
            raise NotFound(f"Unknown report '{kind}'. Known reports: {known}.") from None
        options = {"period": request.query_params.get("period")} if report.needs_period else {}
        options.update(policy.report_options(request.user, kind))  # 403 for the role, scope for the rows
        try:
            data = report.build(**options)
        except ValueError as exc:  # ReportError and the other apps' report errors: bad input, said why
            raise ValidationError({"detail": str(exc)}) from None
        return Response(data)


class ImportView(APIView):
    """Upload a file of one import kind: all or nothing, every bad row reported."""

    permission_classes = [RolePermission]
    read_roles = ()
    write_roles = (MANAGER, FINANCE, INTEGRATION)  # which kinds, and which rows: customers.policy
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["imports"],
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(IMPORT_KINDS),
                description="What the file holds.",
            )
        ],
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(ImportErrorsSerializer, description="Bad rows; nothing was imported."),
            404: OpenApiResponse(DetailSerializer, description="Unknown import kind."),
        },
    )
    def post(self, request, kind: str):
        if kind not in IMPORT_KINDS:
            raise NotFound(f"Unknown import kind '{kind}'. Use one of: {', '.join(IMPORT_KINDS)}.")
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Attach the file as the multipart form field 'file'."]})
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError({"file": [f"The file is {upload.size} bytes; the limit is {limit} bytes."]})
        try:
            result = run_uploaded_import(kind=kind, upload=upload, acting_user=request.user)
        except ImportFailed as exc:
            return Response(
                {"errors": [e.as_dict() for e in exc.errors], "total": exc.total}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(import_result_dict(result), status=status.HTTP_201_CREATED)
