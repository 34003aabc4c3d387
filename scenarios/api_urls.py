"""API of the scenarios app under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.include_root_view = False
router.register("segment-targets", api.SegmentTargetViewSet, basename="segment-target")
router.register("scenarios", api.ScenarioViewSet, basename="scenario")
router.register("surveys", api.SurveyResponseViewSet, basename="survey")

urlpatterns = [
    path("segments/", api.SegmentsView.as_view(), name="api-segments"),
    path("customer-values/", api.CustomerValueList.as_view(), name="api-customer-values"),
    *router.urls,
]
