"""Pages of the customers app, mounted at /customers/ (namespace ``customers``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("pyramid/", views.pyramid_page, name="pyramid"),
    path("migration/", views.migration, name="migration"),
    path("retention/", views.retention, name="retention"),
    path("concentration/", views.concentration_moved, name="concentration_moved"),  # now accounting's
    path("import/", views.import_page, name="import"),
    path("import/example/<slug:kind>/", views.import_example, name="import_example"),
    path("<int:pk>/", views.customer_detail, name="detail"),
]
