"""API routes of the actions on loss-making customers, under /api/v1/actions/."""

from rest_framework.routers import SimpleRouter

from . import action_api

router = SimpleRouter()
router.register("actions", action_api.ActionViewSet, basename="api-actions")

urlpatterns = router.urls
