"""What every portal page relies on: its stylesheet is served, and nothing inline breaks the CSP."""

from django.contrib.staticfiles import finders


def test_the_portal_stylesheet_and_script_are_found_by_collectstatic():
    assert finders.find("coffre/site.css") and finders.find("coffre/site.js")


def test_pages_carry_no_inline_style_and_htmx_adds_none(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert "includeIndicatorStyles&quot;: false" in page or '"includeIndicatorStyles": false' in page
    assert "style=" not in page and "<style" not in page
