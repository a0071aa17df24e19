"""Forms of the web mailbox: the list's filters, bulk hide/show, and the e-Box management page.

They check what people type and say what is wrong in the person's language; the decisions (what
a filter means, who may change what) belong to selectors and services.
"""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from coffre.mailbox import selectors, selectors_web
from coffre.mailbox.services_management import PHRASE_MAX, PHRASE_MIN, phrase_problem

MAX_QUERY = 200
MAX_SELECTED = 500


class MessageListForm(forms.Form):
    """The filters of the list, read from the query string (every field optional)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_QUERY)
    unread = forms.BooleanField(label=_("Unread only"), required=False)
    sender = forms.ChoiceField(label=_("Sender"), required=False)
    type = forms.ChoiceField(label=_("Message type"), required=False)
    received_from = forms.DateField(label=_("Received from"), required=False)
    received_to = forms.DateField(label=_("Received until"), required=False)
    expiring = forms.BooleanField(label=_("Expiring within 30 days"), required=False)
    hidden = forms.BooleanField(label=_("Also show hidden messages"), required=False)

    def __init__(self, data, *, lang: str):
        super().__init__(data)
        self.lang = lang
        self.fields["sender"].choices = [("", _("All senders")), *selectors_web.sender_choices(lang)]
        self.fields["type"].choices = [("", _("All types")), *selectors_web.message_type_choices(lang)]
        for name in ("received_from", "received_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("This date is before the “received from” date."))
        return data

    @property
    def active(self) -> bool:
        """True when some filter narrows the list (the "hidden" toggle widens it)."""
        data = getattr(self, "cleaned_data", {})
        return any(
            data.get(name)
            for name in ("q", "unread", "sender", "type", "received_from", "received_to", "expiring")
        )

    def filters(self, today: dt.date) -> selectors.MessageFilters:
        """The valid filters as the selectors take them (an invalid field is left out)."""
        data = getattr(self, "cleaned_data", {})
        end = data.get("received_to")
        received_before = end + dt.timedelta(days=1) if end and end < dt.date.max else None
        qlang = self.lang if self.lang in selectors.SEARCH_LANGUAGES else "fr"
        return selectors.MessageFilters(
            received_after=data.get("received_from"),
            received_before=received_before,
            expired_before=selectors_web.expiring_before(today) if data.get("expiring") else None,
            read=False if data.get("unread") else None,
            visible=None if data.get("hidden") else True,
            message_type_id=data.get("type") or None,
            sender_organization_id=data.get("sender") or None,
            q=data.get("q") or None,
            qlang=qlang,
        )


class VisibilityForm(forms.Form):
    """Hide or show the selected messages (``message``), or every message of the page."""

    ACTIONS = [("hide", _("Hide")), ("show", _("Show"))]

    action = forms.ChoiceField(choices=ACTIONS)
    message = forms.MultipleChoiceField(required=False)
    select_all = forms.BooleanField(required=False)
    on_page = forms.MultipleChoiceField(required=False)

    def __init__(self, data):
        super().__init__(data)
        # Any id is a choice here: whether it is one of this e-Box's messages is the service's call.
        for name in ("message", "on_page"):
            self.fields[name].valid_value = lambda value: 0 < len(value) <= 36

    def clean(self):
        data = super().clean()
        chosen = data.get("on_page") if data.get("select_all") else data.get("message")
        chosen = list(dict.fromkeys(chosen or []))
        if not chosen:
            raise ValidationError(_("Select at least one message."))
        if len(chosen) > MAX_SELECTED:
            raise ValidationError(_("Select at most %(count)d messages at a time.") % {"count": MAX_SELECTED})
        data["chosen"] = chosen
        return data

    @property
    def visible(self) -> bool:
        return self.cleaned_data["action"] == "show"


class NotificationAddressForm(forms.Form):
    email = forms.EmailField(label=_("New notification e-mail address"), max_length=254)


class AntiPhishingPhraseForm(forms.Form):
    phrase = forms.CharField(
        label=_("Anti-phishing phrase"),
        min_length=PHRASE_MIN,
        max_length=PHRASE_MAX,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phrase"].help_text = _(
            "Between %(min)d and %(max)d characters, plain text (no < or >)."
        ) % {
            "min": PHRASE_MIN,
            "max": PHRASE_MAX,
        }

    def clean_phrase(self):
        phrase = " ".join(self.cleaned_data["phrase"].split())
        problem = phrase_problem(phrase)
        if problem:
            raise ValidationError(problem)
        return phrase
