"""API routes of the sales organisation, under /api/v1/."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("teams", api.TeamViewSet, basename="organisation-team")
router.register("reps", api.RepViewSet, basename="organisation-rep")
router.register("pairs", api.PairViewSet, basename="organisation-pair")
router.register("users", api.UserViewSet, basename="organisation-user")
router.register("years", api.YearViewSet, basename="organisation-year")

urlpatterns = router.urls
