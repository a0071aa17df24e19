"""``{% load notification_notices %}{% failing_notification_notice %}`` (base.html): tells the
access managers, on every portal page, that notifications to their enterprise's address are
refused, with a link to e-Box management, until an address is confirmed again."""

from django import template

from coffre.mailbox import selectors_web

register = template.Library()


@register.inclusion_tag("mailbox/failing_notification_notice.html", takes_context=True)
def failing_notification_notice(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"enterprises": selectors_web.failing_notification_addresses(user)}
