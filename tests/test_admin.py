"""The operator console shows the domain but never changes it (changes go through audited services)."""

import pytest
from django.contrib.auth import get_user_model

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(get_user_model().objects.create_superuser("op@example.test", "x" * 20))
    return client


@pytest.mark.parametrize("model", ["accounts/enterprise", "mailbox/ebox", "mailbox/message",
                                   "mailbox/senderorganization", "mailbox/messagetype", "audit/auditrecord",
                                   "oauth/webserviceclient", "agents/connection", "agents/supportreport",
                                   "agents/agentsuggestion"])
def test_lists_are_shown_and_nothing_can_be_added(operator, model):
    register_enterprise("0406798006", "ONSS", Actor.cli("test"))
    assert operator.get(f"/admin/{model}/").status_code == 200
    assert operator.get(f"/admin/{model}/add/").status_code == 403
