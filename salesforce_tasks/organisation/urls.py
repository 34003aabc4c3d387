"""Pages of the sales organisation, mounted at /sales/organisation/ (namespace "salesforce:organisation")."""

from django.urls import path

from . import views

app_name = "organisation"

urlpatterns = [
    path("", views.teams, name="teams"),
    path("teams/<int:team_id>/", views.team, name="team"),
    path("teams/<int:team_id>/reps/", views.rep_new, name="rep_new"),
    path("teams/<int:team_id>/pairs/", views.pair_new, name="pair_new"),
    path("reps/<int:rep_id>/invite/", views.rep_invite, name="rep_invite"),
    path("reps/<int:rep_id>/deactivate/", views.rep_deactivate, name="rep_deactivate"),
    path("teams/<int:team_id>/manager/", views.team_manager, name="team_manager"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/roles/", views.user_roles, name="user_roles"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("periods/", views.periods_page, name="periods"),
    path("periods/<int:name>/<str:action>/", views.period_state, name="period_state"),
    path("waiting/", views.waiting, name="waiting"),
    path("waiting/<str:kind>/<int:pk>/<str:decision>/", views.decide, name="decide"),
    path("history/", views.history_log, name="history"),
    path("history/<str:kind>/<int:pk>/", views.record_history, name="record_history"),
]
