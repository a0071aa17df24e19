"""The agents' pages (namespace ``agents``): each page of an enterprise's agents
(``/e/<cbe>/agents/...``, names ``e_*``) has its twin for the person's "My documents"
(``/my-documents/agents/...``, names ``my_*``)."""

from django.urls import path

from coffre.agents import views, views_connection, views_docconsumer

app_name = "agents"

PAGES = [
    # (path under the box's agents, name, enterprise view, personal view)
    ("", "agents", views.enterprise_agents, views.my_agents),
    ("catalog/", "catalog", views.enterprise_catalog, views.my_catalog),
    ("suggest/", "suggest", views.enterprise_suggest, views.my_suggest),
    ("add/<str:agent_id>/", "add", views.enterprise_add, views.my_add),
    (
        "<int:connection_id>/",
        "connection",
        views_connection.enterprise_connection,
        views_connection.my_connection,
    ),
    (
        "<int:connection_id>/credentials/",
        "credentials",
        views_connection.enterprise_credentials,
        views_connection.my_credentials,
    ),
    ("<int:connection_id>/done/", "done", views_connection.enterprise_done, views_connection.my_done),
    ("<int:connection_id>/sync/", "sync", views_connection.enterprise_sync, views_connection.my_sync),
    ("<int:connection_id>/report/", "report", views_connection.enterprise_report, views_connection.my_report),
    ("<int:connection_id>/remove/", "remove", views_connection.enterprise_remove, views_connection.my_remove),
    # The e-Box DocConsumer's set-up (seed 001): a certificate made here, then the client id.
    (
        "docconsumer/",
        "docconsumer",
        views_docconsumer.enterprise_docconsumer,
        views_docconsumer.my_docconsumer,
    ),
    (
        "<int:connection_id>/docconsumer/",
        "docconsumer_setup",
        views_docconsumer.enterprise_docconsumer_setup,
        views_docconsumer.my_docconsumer_setup,
    ),
    (
        "<int:connection_id>/certificate/",
        "certificate",
        views_docconsumer.enterprise_certificate,
        views_docconsumer.my_certificate,
    ),
]

urlpatterns = [
    *(
        path(f"e/<str:cbe>/agents/{route}", of_enterprise, name=f"e_{name}")
        for route, name, of_enterprise, _ in PAGES
    ),
    *(
        path(f"my-documents/agents/{route}", of_person, name=f"my_{name}")
        for route, name, _, of_person in PAGES
    ),
]
