"""Reading and checking portal descriptions (providers/portal_spec.py): what a YAML author sees."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from coffre.agents import catalog
from coffre.agents.providers.portal import PortalAgent
from coffre.agents.providers.portal_spec import PortalSpecError, load_spec
from coffre.agents.sdk import Category, FieldKind, UserAction
from coffre.agents.tests.portal_world import demo_description, write_description


def load_changed(tmp_path, change, name="demo-energy"):
    data = demo_description()
    change(data)
    return load_spec(write_description(tmp_path, data, name))


def refused(tmp_path, change, name="demo-energy") -> str:
    with pytest.raises(PortalSpecError) as caught:
        load_changed(tmp_path, change, name)
    return str(caught.value)


def test_the_demo_portal_is_in_the_catalog_as_described():
    agent = catalog.agent("demo-energy")
    assert isinstance(agent, PortalAgent)
    assert (agent.name, agent.provider, agent.category) == ("Énergie Demo", "Énergie Demo SA", Category.ENERGY)
    assert agent.frequency == timedelta(days=3) and agent.max_concurrent == 4
    assert [(item.name, item.kind, item.secret) for item in agent.credential_fields] == [
        ("login", FieldKind.TEXT, False),
        ("password", FieldKind.PASSWORD, True),
    ]
    assert agent.secret_fields() == {"password"}
    assert set(agent.spec.user_actions) == {UserAction.ACCEPT_TERMS, UserAction.CHANGE_PASSWORD,
                                            UserAction.TWO_FACTOR}
    assert catalog.search("energie demo") == [agent]


def test_the_address_comes_from_the_named_setting_when_it_is_set(settings):
    agent = catalog.agent("demo-energy")
    settings.COFFRE_DEMO_PORTAL_URL = "http://127.0.0.1:9999/portal"
    assert agent.base_url() == "http://127.0.0.1:9999/portal/"
    settings.COFFRE_DEMO_PORTAL_URL = ""
    assert agent.base_url() == "http://127.0.0.1:8000/demo-portal/"


def test_a_missing_key_is_named_with_its_file(tmp_path):
    message = refused(tmp_path, lambda data: data["documents"].pop("row"))
    assert message == "demo-energy.yaml: documents.row: is required"


def test_a_selector_of_the_wrong_type_is_named(tmp_path):
    message = refused(tmp_path, lambda data: data["documents"].update(row=12))
    assert message == "demo-energy.yaml: documents.row: must be a string, got a number"


def test_a_selector_that_does_not_parse_is_named(tmp_path):
    message = refused(tmp_path, lambda data: data["documents"]["amount"].update(selector="td >> .amount"))
    assert message == "demo-energy.yaml: documents.amount.selector: 'td >> .amount' is not a valid CSS selector"


def test_an_unknown_key_is_refused_with_the_known_ones(tmp_path):
    message = refused(tmp_path, lambda data: data["documents"].update(rows="tr"))
    assert message.startswith("demo-energy.yaml: documents.rows: unknown key (known here: ")
    assert "row" in message and "container" in message


def test_an_unknown_top_level_key_is_refused(tmp_path):
    assert refused(tmp_path, lambda data: data.update(javascript=True)).startswith(
        "demo-energy.yaml: javascript: unknown key"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(id="energy"), "id: must be the file's name without .yaml ('demo-energy')"),
        (lambda d: d.update(category="gas"), "category: must be one of administration, energy"),
        (lambda d: d["site"].update(base_url="http://portal.example.be/"), "site.base_url: must use https"),
        (lambda d: d["site"].update(base_url="ftp://portal.example.be/"), "site.base_url: 'ftp://portal"),
        (lambda d: d["documents"].update(url="https://elsewhere.example/bills"),
         "documents.url: must be relative to base_url"),
        (lambda d: d["documents"]["date"].update(format="%d/%m"), "documents.date.format: '%d/%m' is not a date"),
        (lambda d: d["documents"].update(date="td.date"), "documents.date: a date needs a mapping"),
        (lambda d: d["documents"]["amount"].update(decimal="dot"), "documents.amount.decimal: must be 'comma'"),
        (lambda d: d["documents"]["remote_id"].update(pattern="(F)(\\d+)"), "remote_id.pattern: may have one"),
        (lambda d: d["documents"]["remote_id"].update(pattern="(F"), "remote_id.pattern: is not a valid regular"),
        (lambda d: d["login"]["fields"].update(otp="code"), "login.fields.otp: 'code' is not one of the cred"),
        (lambda d: d["login"].update(success={}), "login.success: needs at least one of url, selector, text"),
        (lambda d: d["user_actions"].update(captcha={"url": "x"}), "user_actions.captcha: unknown action"),
        (lambda d: d.update(frequency="30 minutes"), "frequency: '30 minutes': write e.g. '3 days'"),
        (lambda d: d.update(frequency="0 hours"), "frequency: must be at least one hour"),
        (lambda d: d.update(max_concurrent=0), "max_concurrent: must be between 1 and 1000, got 0"),
        (lambda d: d["download"].update(media_type="text/html"), "download.media_type: must be one of"),
        (lambda d: d["credentials"][1].update(kind="pin"), "credentials[1].kind: must be one of text"),
        (lambda d: d["credentials"].append({"name": "login", "label": "Again"}), "credentials: two fields"),
        (lambda d: d["documents"]["pagination"].update(next=None), "documents.pagination.next: is required"),
        (lambda d: d.update(logo="../../settings.py"), "logo: must be a static file path"),
        (lambda d: d["login"].update(hidden_fields="csrf_token"), "login.hidden_fields: must be a list"),
    ],
)
def test_each_mistake_is_named_with_its_key(tmp_path, change, expected):
    message = refused(tmp_path, change)
    assert message.startswith("demo-energy.yaml: ")
    assert expected in message


def test_a_file_that_is_not_yaml_says_where(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(PortalSpecError, match=r"^broken.yaml: is not valid YAML at line \d+$"):
        load_spec(path)


def test_yaml_tags_that_build_python_objects_are_refused(tmp_path):
    path = tmp_path / "tagged.yaml"
    path.write_text("id: !!python/object/apply:os.getcwd []\n", encoding="utf-8")
    with pytest.raises(PortalSpecError, match="is not valid YAML"):
        load_spec(path)


def test_optional_parts_take_their_defaults(tmp_path):
    def strip(data):
        for key in ("user_actions", "download", "frequency", "max_concurrent", "logo", "description"):
            data.pop(key)
        data["documents"].pop("amount")
        data["documents"].pop("pagination")

    spec = load_changed(tmp_path, strip)
    assert spec.user_actions == {} and spec.media_type == "application/pdf"
    assert spec.frequency == timedelta(days=3) and spec.logo == "coffre/agents/generic.svg"
    assert spec.documents.amount is None and spec.documents.max_pages == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12 hours", timedelta(hours=12)), ("1 week", timedelta(weeks=1)), ("monthly", timedelta(days=30)),
     ("2d", timedelta(days=2))],
)
def test_frequencies_in_words(tmp_path, text, expected):
    assert load_changed(tmp_path, lambda data: data.update(frequency=text)).frequency == expected


def test_the_example_of_the_documentation_is_a_valid_description(tmp_path):
    guide = Path(__file__).resolve().parents[4] / "docs" / "agents-portal.md"
    example = re.search(r"```yaml\n(.*?)```", guide.read_text(encoding="utf-8"), re.DOTALL).group(1)
    (tmp_path / "demo-energy.yaml").write_text(example, encoding="utf-8")
    spec = load_spec(tmp_path / "demo-energy.yaml")
    assert spec.documents.next_page == "a[rel=next]" and spec.login.hidden_fields == ("csrf_token",)
