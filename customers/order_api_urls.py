from django.urls import path

from . import order_api

urlpatterns = [
    path("orders/", order_api.OrderView.as_view(), name="api-orders"),
    path("orders/<str:order_id>/", order_api.OrderDetailView.as_view(), name="api-order-detail"),
]
