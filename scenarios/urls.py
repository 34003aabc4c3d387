"""Pages of the scenarios app, mounted at /scenarios/ (namespace ``scenarios``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.scenarios, name="scenarios"),
    path("segments/", views.segments, name="segments"),
    path("segments/targets/", views.segment_targets, name="segment_targets"),
    path("surveys/new/", views.survey_new, name="survey_new"),
    path("<int:pk>/", views.scenario_edit, name="scenario"),
    path("<int:pk>/preview/", views.scenario_preview, name="scenario_preview"),
    path("<int:pk>/copy/", views.scenario_copy, name="scenario_copy"),
    path("<int:pk>/plan/", views.scenario_make_plan, name="scenario_plan"),
    path("<int:pk>/delete/", views.scenario_delete, name="scenario_delete"),
]
