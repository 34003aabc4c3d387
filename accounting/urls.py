from django.urls import path

from . import views

urlpatterns = [
    path("pools/", views.pools, name="pools"),
    path("pools/new/", views.pool_create, name="pool_create"),
    path("pools/validate/", views.pool_validate, name="pool_validate"),
    path("pools/preview/", views.pool_preview, name="pool_preview"),
    path("pools/customers/", views.pool_customer_options, name="pool_customer_options"),
    path("pools/interest-rate/", views.interest_rate_update, name="interest_rate_update"),
    path("pools/<int:pk>/edit/", views.pool_update, name="pool_update"),
    path("pools/<int:pk>/delete/", views.pool_delete, name="pool_delete"),
    path("pools/<int:pk>/history/", views.pool_history, name="pool_history"),
    path("pools/<int:pk>/history/<int:history_id>/revert/", views.pool_revert, name="pool_revert"),
    path("concentration/", views.concentration, name="concentration"),  # was /customers/concentration/
    path("profit/", views.profit, name="profit"),
    path("profit/loss-making/", views.profit_lossmaking, name="profit_lossmaking"),
    path("customers/<int:pk>/waterfall/", views.customer_waterfall, name="customer_waterfall"),
]
