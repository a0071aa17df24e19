"""The agents' forms: adding an agent (its space, a label, and the credentials its description
asks for), replacing the credentials, suggesting a new agent, and the operators' maintenance.

The credentials form is built from the agent's ``credential_fields``: a secret field (or a
password) is a password input that never shows a value back (``render_value=False``) and asks the
browser not to fill in Coffre's own password (``autocomplete="new-password"``); a multi-line field
(a PEM key) is a text area, blank when secret (it is never given an initial value); a non-secret
value may be shown back (``initial``). The DocConsumer's set-up asks the e-Box side's answers only
(``DocConsumerForm``): its private key is made by Coffre and never typed. The forms check the shape only (required, length); the services
check the rest and their errors are put back next to the fields (``add_service_errors``).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from coffre.agents import credentials
from coffre.agents.sdk import Agent, CredentialField, FieldKind
from coffre.mailbox.models import Folder

PREFIX = "credentials"


class SecretTextarea(forms.Textarea):
    """A text area that never renders a value (a secret PEM key typed with an error elsewhere in
    the form is not sent back to the browser)."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, None, attrs)
        context["widget"]["value"] = None
        return context


def _secret(item: CredentialField) -> bool:
    return item.secret or item.kind == FieldKind.PASSWORD


def _widget(item: CredentialField) -> forms.Widget:
    attrs = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
    if item.kind == FieldKind.MULTILINE:  # a PEM key or certificate; a secret one is never shown
        widget = SecretTextarea if _secret(item) else forms.Textarea
        return widget(attrs={**attrs, "rows": 6, "class": "pem"})
    if _secret(item):
        return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    if item.kind == FieldKind.EMAIL:
        return forms.EmailInput(attrs=attrs)
    if item.kind == FieldKind.URL:
        return forms.URLInput(attrs=attrs)
    if item.kind == FieldKind.NUMBER:
        return forms.TextInput(attrs={**attrs, "inputmode": "numeric"})
    return forms.TextInput(attrs=attrs)


class CredentialsForm(forms.Form):
    """The fields the agent asks for (``prefix`` "credentials": they never meet the other forms'
    names). ``values()`` gives the dict the services take."""

    def __init__(self, agent: Agent, *args, **kwargs):
        kwargs.setdefault("prefix", PREFIX)
        super().__init__(*args, **kwargs)
        self.agent = agent
        for item in agent.credential_fields:
            multiline = item.kind == FieldKind.MULTILINE
            self.fields[item.name] = forms.CharField(
                label=item.label,
                required=item.required,
                max_length=credentials.MAX_MULTILINE_LENGTH if multiline else credentials.MAX_LENGTH,
                strip=not _secret(item),  # a secret is kept exactly as typed
                help_text=item.help_text,
                widget=_widget(item),
            )

    def values(self) -> dict:
        return {item.name: self.cleaned_data.get(item.name, "") for item in self.agent.credential_fields}

    def add_service_errors(self, errors: dict[str, str]) -> None:
        """The errors of ``credentials.CredentialsInvalid`` (field name -> message), next to
        their fields."""
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)


class AddForm(forms.Form):
    """Where the agent brings the documents (an enterprise's Documents or Purchases), and the
    person's name for the account."""

    folder = forms.ChoiceField(
        label=_("Space"),
        choices=Folder.choices,
        initial=Folder.DOCUMENTS,
        widget=forms.RadioSelect,
        help_text=_("Where the agent puts the documents it brings."),
    )
    label = forms.CharField(
        label=_("Name of this account (optional)"),
        required=False,
        max_length=100,
        help_text=_("To tell your agents apart, e.g. “Shop, electricity”."),
    )

    def __init__(self, *args, folders: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        if len(folders) < 2:
            del self.fields["folder"]  # "My documents" has one space
        else:
            self.fields["folder"].choices = [(name, Folder(name).label) for name in folders]


class SuggestionForm(forms.Form):
    provider_name = forms.CharField(label=_("Provider's name"), max_length=200)
    website = forms.CharField(
        label=_("Its website (optional)"),
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What documents you would like it to bring, for instance. Never a password."),
    )


class MaintenanceForm(forms.Form):
    reason = forms.CharField(label=_("Reason (for the operators)"), required=False, max_length=300)


class DocConsumerForm(forms.Form):
    """Step 3 of the DocConsumer set-up: what the e-Box side answered (the client id) and where it
    is; the official addresses are given, editable."""

    client_id = forms.CharField(
        label=_("Client ID"),
        max_length=credentials.MAX_LENGTH,
        help_text=_("The client ID the e-Box side shows for the webservice account."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    enterprise = forms.CharField(
        label=_("Enterprise number"),
        max_length=20,
        help_text=_("The CBE number of the e-Box to read."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    registry_url = forms.CharField(
        label=_("Message Registry address"),
        required=False,
        max_length=credentials.MAX_LENGTH,
        help_text=_(
            "The official e-Box Enterprise is given. For another Coffre: "
            "https://its-address/REST/ebox/enterprise/messageRegistry/v2/"
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    token_url = forms.CharField(
        label=_("Token endpoint address"),
        required=False,
        max_length=credentials.MAX_LENGTH,
        help_text=_(
            "The official one is given. For another Coffre, leave it empty: its address announces it."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.fields}

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)
