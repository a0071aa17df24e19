"""Forms of the accounting firms' pages: the portfolio search, adding a collaborator, attaching one
to a client file, giving a firm access to an enterprise, choosing the enterprise's client admin."""

from django import forms
from django.utils.translation import gettext_lazy as _

from coffre.accounts.models import Collaborator, User


class PortfolioSearchForm(forms.Form):
    q = forms.CharField(label=_("Search by name or CBE number"), max_length=100, required=False)
    favourites = forms.BooleanField(label=_("Favourites only"), required=False)
    mine = forms.BooleanField(label=_("Only the clients I am attached to"), required=False)


class AddCollaboratorForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the collaborator"),
        help_text=_("The person signs in to Coffre with this address."),
    )
    is_admin = forms.BooleanField(
        label=_("Administrator of the firm (manages collaborators and attachments)"), required=False
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise forms.ValidationError(
                _("Nobody signs in to Coffre with this address yet: ask the person to sign up first.")
            )
        self.cleaned_data["user"] = user
        return email


class CollaboratorChoiceForm(forms.Form):
    collaborator = forms.ModelChoiceField(label=_("Collaborator"), queryset=Collaborator.objects.none())

    def __init__(self, *args, firm, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["collaborator"]
        field.queryset = firm.collaborators.select_related("user").order_by("user__email")
        field.label_from_instance = lambda collaborator: (
            collaborator.user.full_name or collaborator.user.email
        )


class GrantFirmForm(forms.Form):
    firm = forms.CharField(
        label=_("Accounting firm"),
        max_length=254,
        help_text=_("The e-mail address of the firm's administrator, or the firm's number."),
    )


class ClientAdminForm(forms.Form):
    client_admin = forms.ModelChoiceField(
        label=_("Client admin"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The principal access manager (default)"),
        help_text=_("Approves documents sent by e-mail from addresses nobody has approved yet."),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["client_admin"]
        field.queryset = candidates
        field.label_from_instance = lambda user: (
            f"{user.full_name} <{user.email}>" if user.full_name else user.email
        )
