"""Mount the e-Box REST API (under its official root), the event API (under its contract's base
path) and their OpenAPI documentation."""

from django.urls import path

from coffre.api import consultation, events, publication, reference
from coffre.api.base import REGISTRY_ROOT, api

api.add_router(REGISTRY_ROOT, consultation.router)
api.add_router(REGISTRY_ROOT, publication.router)
api.add_router(REGISTRY_ROOT, reference.router)
api.add_router(events.EVENTS_ROOT, events.router)

urlpatterns = [path("", api.urls)]
