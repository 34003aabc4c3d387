"""API routes of the sales-force workflow, under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("visits", api.VisitViewSet, basename="salesforce-visit")
router.register("customer-targets", api.CustomerTargetViewSet, basename="salesforce-customer-target")
router.register("team-targets", api.TeamTargetViewSet, basename="salesforce-team-target")
router.register("bonus-kpis", api.BonusKpiViewSet, basename="salesforce-bonus-kpi")

urlpatterns = [
    path("rep-results/", api.RepResultsView.as_view(), name="salesforce-rep-results"),
    path("bonus/", api.BonusView.as_view(), name="salesforce-bonus"),
    path("portfolio-reassignments/", api.CustomerReassignView.as_view(), name="salesforce-reassign"),
    *router.urls,
    path("", include("salesforce_tasks.organisation.api_urls")),
]
