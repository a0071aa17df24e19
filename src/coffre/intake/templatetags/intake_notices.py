"""``{% load intake_notices %}{% waiting_for_decision_notice %}``: on every portal page, the e-mails
that wait for the signed-in person's decision (in an enterprise's E-mail access, or their own in
My documents), with a link to where they decide (coffre.intake.selectors.waiting_for)."""

from django import template

from coffre.intake.selectors import waiting_for

register = template.Library()


@register.inclusion_tag("intake/waiting_notice.html", takes_context=True)
def waiting_for_decision_notice(context):
    request = context["request"]
    return {"waiting": waiting_for(getattr(request, "user", None))}
