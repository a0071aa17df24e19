"""Mount the e-Box REST API (under its official root) and its OpenAPI documentation."""

from django.urls import path

from coffre.api import consultation, publication, reference
from coffre.api.base import REGISTRY_ROOT, api

api.add_router(REGISTRY_ROOT, consultation.router)
api.add_router(REGISTRY_ROOT, publication.router)
api.add_router(REGISTRY_ROOT, reference.router)

urlpatterns = [path("", api.urls)]
