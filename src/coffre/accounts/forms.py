"""Forms of the account pages: every message in the person's language."""

from django import forms

from coffre.accounts.models import User


class LanguageForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "language"]
