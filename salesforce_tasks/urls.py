"""Pages of the sales-force workflow, mounted at /sales/ in the namespace "salesforce"."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.rep_home, name="rep_home"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visits/customers/", views.customer_search, name="customer_search"),
    path("visits/<int:visit_id>/edit/", views.visit_edit, name="visit_edit"),
    path("visits/<int:visit_id>/delete/", views.visit_delete, name="visit_delete"),
    path("effectiveness/", views.effectiveness, name="effectiveness"),
    path("norms/", views.visit_norms, name="norms"),
    path("targets/", views.targets, name="targets"),
    path("targets/customers/<int:customer_id>/", views.target_edit, name="target_edit"),
    path("targets/<int:target_id>/approve/", views.target_approve, name="target_approve"),
    path("targets/<int:target_id>/delete/", views.target_delete, name="target_delete"),
    path("targets/teams/", views.team_target_save, name="team_target_save"),
    path("targets/teams/<int:team_target_id>/delete/", views.team_target_delete, name="team_target_delete"),
    path("bonus/", views.bonus_page, name="bonus"),
    path("bonus/kpis/new/", views.kpi_edit, name="kpi_new"),
    path("bonus/kpis/<int:kpi_id>/", views.kpi_edit, name="kpi_edit"),
    path("bonus/kpis/<int:kpi_id>/delete/", views.kpi_delete, name="kpi_delete"),
    path("bonus/compare/", views.bonus_compare, name="bonus_compare"),
    path("bonus/estimate/", views.bonus_estimate, name="bonus_estimate"),
    path("reps/", views.reps, name="reps"),
    path("reps/pairs/<int:pair_id>/", views.pair_detail, name="pair"),
    path("customers/<int:customer_id>/", views.customer_sales, name="customer"),
    path("customers/<int:customer_id>/reassign/", views.customer_reassign, name="customer_reassign"),
    path("organisation/", include("salesforce_tasks.organisation.urls")),
]
