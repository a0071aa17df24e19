"""The digest e-mail's text, rendered once per shape and filled in per enterprise.

A night may write a hundred thousand digests; most say the same thing ("2 new documents") in one
of four languages. The templates (``notifications/mail/digest*``) are rendered once per
(language, with or without a phrase, the three counts) with placeholders for what differs from
one enterprise to the next (name, CBE number, phrase, code, links), then each digest fills them
in, in one pass (a value is never read again as a placeholder), escaped for the HTML part. The
outbox then renders ``notifications/mail/rendered*``, which print the parts as given.

This module sees counts and the enterprise's own data only: nothing of a message reaches it.
"""

import re
from functools import lru_cache

from django.utils.html import escape

from coffre.core.mail import render_mail

TEMPLATES = "notifications/mail/digest"
RENDERED = "notifications/mail/rendered"
# A private-use character never occurs in the templates, and the values are put in after
# rendering. It must not be whitespace: the subject's whitespace is collapsed with str.split(),
# which takes the ASCII separators (\x1c-\x1f) for whitespace and would strip the marks.
_MARK = "\ue000"
_FIELDS = {
    "enterprise_name": "N",
    "cbe": "C",
    "phrase": "P",
    "code": "R",
    "portal_url": "U",
    "management_url": "M",
    "genuine_url": "G",
}
_PLACEHOLDER = re.compile(_MARK + "([A-Z])" + _MARK)


@lru_cache(maxsize=512)
def _shape(language: str, with_phrase: bool, new_documents: int, reminders: int, expiring: int):
    context = {name: f"{_MARK}{letter}{_MARK}" for name, letter in _FIELDS.items()}
    if not with_phrase:
        context["phrase"] = ""
    context.update(new_documents=new_documents, reminders=reminders, expiring=expiring)
    return render_mail(TEMPLATES, context, language)


def digest_parts(context: dict, language: str) -> dict:
    """Subject, text and HTML of a digest (the context of ``services.digest_context``)."""
    subject, text, html = _shape(
        language, bool(context["phrase"]), context["new_documents"], context["reminders"], context["expiring"]
    )
    values = {letter: str(context[name]) for name, letter in _FIELDS.items()}
    escaped = {letter: escape(value) for letter, value in values.items()}
    return {
        "subject": _PLACEHOLDER.sub(lambda match: values[match.group(1)], subject),
        "text": _PLACEHOLDER.sub(lambda match: values[match.group(1)], text),
        "html": _PLACEHOLDER.sub(lambda match: escaped[match.group(1)], html or ""),
    }
