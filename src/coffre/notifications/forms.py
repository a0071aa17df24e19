"""Forms of the notification pages: the reference code to check, the e-Boxes to be alerted of."""

from django import forms
from django.utils.translation import gettext_lazy as _

from coffre.accounts.permissions import enterprises_of
from coffre.notifications import codes, selectors


class GenuineForm(forms.Form):
    code = forms.CharField(
        label=_("Reference code"),
        max_length=40,
        help_text=_("At the bottom of the e-mail: 16 letters and digits, e.g. 7KQ2-M9XD-4HTB-PW3R."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def clean_code(self) -> str:
        code = codes.normalize(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("A reference code has 16 letters and digits, e.g. 7KQ2-M9XD-4HTB-PW3R. "
                  "Check what you typed.")
            )
        return code


class InstantAlertsForm(forms.Form):
    """The e-Boxes the person can read; the ticked ones send an e-mail as soon as a document arrives."""

    enterprises = forms.ModelMultipleChoiceField(
        label=_("E-mail me as soon as a document arrives in the e-Box of"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, readable, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["enterprises"]
        field.queryset = readable
        field.label_from_instance = lambda enterprise: f"{enterprise.name} ({enterprise.cbe})"


def instant_alerts_form(person, data=None) -> InstantAlertsForm:
    """The settings page's form of instant alerts: the e-Boxes the person reads, ticked as chosen."""
    readable = enterprises_of(person)
    chosen = [enterprise for enterprise, on in selectors.alert_choices(person, list(readable)) if on]
    return InstantAlertsForm(data, readable=readable, initial={"enterprises": chosen})
