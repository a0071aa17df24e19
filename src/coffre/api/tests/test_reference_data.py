"""Reference data: lists, items, logos, cache headers."""

import pytest

from coffre.api.tests.conftest import ACTOR, ONSS
from coffre.mailbox import reference
from coffre.mailbox.models import SenderOrganization

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def test_message_types(world):
    response = world.sender.get("referenceData/messageTypes")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, no-transform, proxy-revalidate, max-age=86400"
    body = response.json()
    assert body["totalItems"] == 2
    attest = body["items"][0]
    assert attest == {
        "messageTypeId": "ATTEST",
        "messageTypeName": {"nl": "Attest", "fr": "Attestation", "de": "Bescheinigung"},
        "validityPeriod": {"validityPeriodNumber": 1, "validityPeriodUnit": "year"},
        "senderOrganizationIds": [ONSS],
        "senderApplicationIds": ["DMFA"],
    }
    assert world.sender.get("referenceData/messageTypes/REMINDER").json()["messageTypeId"] == "REMINDER"
    assert world.sender.get("referenceData/messageTypes/NOPE").status_code == 404


def test_paging_of_reference_data(world):
    page = world.sender.get("referenceData/senderOrganizations", {"pageSize": 1, "page": 2}).json()
    assert page["totalItems"] == 2 and len(page["items"]) == 1
    assert world.sender.get("referenceData/senderOrganizations", {"pageSize": 101}).status_code == 400


def test_organizations_and_applications_with_their_links(world):
    onss = world.sender.get(f"referenceData/senderOrganizations/{ONSS}").json()
    assert onss["organizationShortName"] == {"nl": "RSZ", "fr": "ONSS", "de": "LSS"}
    assert onss["senderApplicationIds"] == ["DMFA"]
    assert set(onss["messageTypeIds"]) == {"ATTEST", "REMINDER"}
    dmfa = world.sender.get("referenceData/senderApplications/DMFA").json()
    assert dmfa["senderOrganizationIds"] == [ONSS] and dmfa["messageTypeIds"] == ["ATTEST"]
    assert world.sender.get("referenceData/senderApplications/NOPE").status_code == 404
    assert world.sender.get("referenceData/senderOrganizations/0555555523").status_code == 404


def test_logos(world):
    logo = reference.add_logo(SenderOrganization.objects.get(organization_id=ONSS), PNG, ACTOR, language="fr")
    onss = world.sender.get(f"referenceData/senderOrganizations/{ONSS}").json()
    (image,) = onss["organizationLogos"]
    assert image["mediaType"] == "image/png" and image["language"] == "fr"
    path = image["contentHref"].split("/v2/", 1)[1]
    response = world.sender.get(path)
    assert response.status_code == 200 and response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert world.sender.get(f"referenceData/senderApplications/DMFA/images/{logo.image_id}/content").status_code == 404


def test_svg_logos_are_refused():
    with pytest.raises(reference.ReferenceDataError):
        reference.add_logo(None, b"<svg onload='x'/>", ACTOR)


def test_etag_revalidation(world):
    first = world.sender.get("referenceData/messageTypes")
    again = world.sender.get("referenceData/messageTypes", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    reference.set_message_type("NEW", ACTOR, name={"fr": "Nouveau"}, validity_number=1, validity_unit="month",
                               organizations=[ONSS])
    changed = world.sender.get("referenceData/messageTypes", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed.json()["totalItems"] == 3


def test_reference_data_needs_its_scope(world):
    assert world.alice.get("referenceData/messageTypes").status_code == 200
    response = world.other_sender.get("referenceData/messageTypes")
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
