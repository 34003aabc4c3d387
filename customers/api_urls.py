"""API routes of the customers app, included under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("periods", api.PeriodViewSet, basename="customers-period")

urlpatterns = [
    *router.urls,
    path("customers/", api.CustomerListView.as_view(), name="customers-api-list"),
    path("customers/<int:pk>/", api.CustomerDetailView.as_view(), name="customers-api-detail"),
    path("reports/<slug:kind>/", api.ReportView.as_view(), name="customers-api-report"),
    path("imports/<slug:kind>/", api.ImportView.as_view(), name="customers-api-import"),
]
