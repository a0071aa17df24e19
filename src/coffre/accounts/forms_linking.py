"""The form a person fills in to link their profile to a business account (seed 003).

Field errors only say that a field is missing; whether the values match an account is told in one
message for the whole form (``views_linking``), never per field.
"""

from django import forms
from django.utils.translation import gettext_lazy as _


class LinkForm(forms.Form):
    client_number = forms.CharField(
        label=_("Client number"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    postal_code = forms.CharField(
        label=_("Postal code of the business address"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    contract_number = forms.CharField(
        label=_("Contract number"),
        max_length=40,
        required=False,
        help_text=_("Required when the account has contracts: give one of them."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
