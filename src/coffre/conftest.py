"""Fixtures shared by the apps' tests: each test gets its own blob storage directory."""

import pytest


@pytest.fixture(autouse=True)
def isolated_blob_storage(settings, tmp_path):
    storages = {**settings.STORAGES}
    storages["blobs"] = {**storages["blobs"], "OPTIONS": {"location": str(tmp_path / "blobs")}}
    settings.STORAGES = storages
    yield tmp_path / "blobs"
