from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("cost-pools", api.CostPoolViewSet, basename="api-cost-pools")
router.register("invoices", api.InvoiceViewSet, basename="api-invoices")

urlpatterns = [
    path("profit/", api.CustomerProfitList.as_view(), name="api-profit"),
    path("customers/<int:pk>/waterfall/", api.CustomerWaterfallView.as_view(), name="api-customer-waterfall"),
    path(
        "customers/<int:pk>/profit-change/", api.CustomerProfitChangeView.as_view(), name="api-customer-profit-change"
    ),
    *router.urls,
]
