"""API routes of the actions on loss-making customers, under /api/v1/actions/."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("actions", api.ActionViewSet, basename="api-actions")

urlpatterns = router.urls
