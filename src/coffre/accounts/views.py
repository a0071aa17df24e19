"""Signing in and out, the person's settings, and the portal's home page."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from coffre.accounts.forms import LanguageForm
from coffre.accounts.permissions import enterprises_of


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    first = enterprises_of(request.user).first()
    if first is None:
        return render(request, "accounts/no_enterprise.html")
    return redirect("mailbox:list", cbe=first.cbe)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    form = LanguageForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        translation.activate(form.instance.language)
        messages.success(request, _("Your settings are saved."))
        response = redirect("accounts:settings")
        response.set_cookie("django_language", form.instance.language, samesite="Lax")
        return response
    return render(request, "accounts/settings.html", {"form": form})
