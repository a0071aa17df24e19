"""The operators' page of the agents (``/operator/agents/``, namespace ``agents_operator``)."""

from django.urls import path

from coffre.agents import views_operator

app_name = "agents_operator"

urlpatterns = [
    path("", views_operator.operator_agents, name="agents"),
    path("maintenance/<str:agent_id>/", views_operator.operator_maintenance, name="maintenance"),
    path("reports/<int:report_id>/resolve/", views_operator.operator_resolve, name="resolve"),
]
