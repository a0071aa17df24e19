"""The bare upload endpoint of ``make bench``: absent unless COFFRE_BENCH, and it stores nothing."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from coffre.core.bench import bare_upload


def test_the_bare_endpoint_is_not_mounted_by_default(settings):
    assert settings.COFFRE_BENCH is False
    with pytest.raises(Resolver404):
        resolve("/bench/bare-upload")


def test_the_bare_endpoint_reads_the_upload_and_stores_nothing(tmp_path, settings):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    request = RequestFactory().post(
        "/bench/bare-upload",
        {
            "messageToPublish": "{}",
            "upfile1": SimpleUploadedFile("a.pdf", b"%PDF-1.7 " * 1000, "application/pdf"),
        },
    )
    response = bare_upload(request)
    assert response.status_code == 201
    assert json.loads(response.content) == {"parts": 2, "bytes": 9000}
    assert not list(tmp_path.iterdir())
