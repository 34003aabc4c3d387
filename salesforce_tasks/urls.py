"""Pages of the sales-force workflow, mounted at /sales/ in the namespace "salesforce"."""

from django.urls import include, path

from .views import bonus, customers, effectiveness, home, reps, targets, visits

urlpatterns = [
    path("", home.rep_home, name="rep_home"),
    path("visits/", visits.visit_list, name="visits"),
    path("visits/new/", visits.visit_new, name="visit_new"),
    path("visits/customers/", visits.customer_search, name="customer_search"),
    path("visits/<int:visit_id>/edit/", visits.visit_edit, name="visit_edit"),
    path("visits/<int:visit_id>/delete/", visits.visit_delete, name="visit_delete"),
    path("effectiveness/", effectiveness.effectiveness, name="effectiveness"),
    path("norms/", effectiveness.visit_norms, name="norms"),
    path("targets/", targets.targets, name="targets"),
    path("targets/customers/<int:customer_id>/", targets.target_edit, name="target_edit"),
    path("targets/<int:target_id>/approve/", targets.target_approve, name="target_approve"),
    path("targets/<int:target_id>/reject/", targets.target_reject, name="target_reject"),
    path("targets/<int:target_id>/delete/", targets.target_delete, name="target_delete"),
    path("targets/teams/", targets.team_target_save, name="team_target_save"),
    path("targets/teams/<int:team_target_id>/delete/", targets.team_target_delete, name="team_target_delete"),
    path("targets/restore/<int:history_id>/", targets.target_restore, name="target_restore"),
    path("targets/teams/restore/<int:history_id>/", targets.team_target_restore, name="team_target_restore"),
    path("bonus/", bonus.bonus_page, name="bonus"),
    path("bonus/kpis/new/", bonus.kpi_edit, name="kpi_new"),
    path("bonus/kpis/<int:kpi_id>/", bonus.kpi_edit, name="kpi_edit"),
    path("bonus/kpis/<int:kpi_id>/delete/", bonus.kpi_delete, name="kpi_delete"),
    path("bonus/compare/", bonus.bonus_compare, name="bonus_compare"),
    path("bonus/estimate/", bonus.bonus_estimate, name="bonus_estimate"),
    path("reps/", reps.reps, name="reps"),
    path("reps/pairs/<int:pair_id>/", reps.pair_detail, name="pair"),
    path("customers/<int:customer_id>/", customers.customer_sales, name="customer"),
    path("customers/<int:customer_id>/reassign/", customers.customer_reassign, name="customer_reassign"),
    path("organisation/", include("salesforce_tasks.organisation.urls")),
]
