"""``{% load portal %}``: the portal's menus (coffre.accounts.navigation), for base.html.

``{% enterprise_menu %}`` on pages of an enterprise (context ``current_enterprise``): the person's
standing is the one the view checked (``request.standing``), else looked up.
``{% person_menu %}`` for a signed-in person.
"""

from django import template

from coffre.accounts import navigation, permissions

register = template.Library()


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


@register.inclusion_tag("includes/enterprise_menu.html", takes_context=True)
def enterprise_menu(context):
    request = context["request"]
    enterprise = context["current_enterprise"]
    standing = getattr(request, "standing", None) or permissions.standing(request.user, enterprise)
    return {
        "enterprise": enterprise,
        "items": navigation.enterprise_menu(enterprise, standing, _view_name(request), request.user),
    }


@register.inclusion_tag("includes/person_menu.html", takes_context=True)
def person_menu(context):
    request = context["request"]
    return {
        "user": request.user,
        "csrf_token": context.get("csrf_token"),
        "items": navigation.person_menu(request.user, _view_name(request)),
    }
