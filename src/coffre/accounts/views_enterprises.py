"""Enterprise pages of the portal: registering an enterprise, its people and roles, invitations
(sending, revoking, accepting), handing over the principal role, leaving, and the security log.

Every page checks the permission matrix (``views_common.enterprise_for``); the services check it
again and apply the role rules (``services_roles``).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from coffre.accounts import permissions, selectors
from coffre.accounts import services_roles as roles
from coffre.accounts.forms import HandOverForm, InviteForm, RegisterEnterpriseForm, RoleForm
from coffre.accounts.models import Role
from coffre.accounts.permissions import Action
from coffre.accounts.views_common import base_url, client_ip, enterprise_for, web_actor
from coffre.core.cbe import InvalidCBE

INVITATION_TOKEN = "coffre_invitation_token"


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    person = request.user
    form = RegisterEnterpriseForm(request.POST or None, initial={"language": person.language})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enterprise = roles.register_enterprise_for(
                person,
                data["cbe"],
                data["name"],
                language=data["language"],
                actor=web_actor(request),
                ip=client_ip(request),
            )
        except roles.AlreadyRegistered:
            form.add_error(
                "cbe",
                _("This enterprise is already registered. Ask one of its access managers to invite you."),
            )
        except InvalidCBE:
            form.add_error("cbe", _("This is not a valid enterprise number."))
        except roles.RoleChangeRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(
                request,
                _("%(name)s is registered and its e-Box is open. You are its principal access manager.")
                % {"name": enterprise.name},
            )
            return redirect("mailbox:list", cbe=enterprise.cbe)
    return render(request, "accounts/enterprise/register.html", {"form": form})


def _people_context(request, enterprise, invite_form=None):
    standing = request.standing
    people = list(selectors.people_of(enterprise))
    rows = []
    for membership in people:
        editable = (
            membership.user_id != request.user.pk
            and membership.role != Role.PRINCIPAL
            and permissions.may_assign(standing, membership.role)
        )
        rows.append(
            {
                "membership": membership,
                "editable": editable,
                "role_form": RoleForm(
                    initial={"role": membership.role},
                    roles=permissions.assignable_roles(standing),
                    prefix=f"m{membership.pk}",
                )
                if editable
                else None,
            }
        )
    invitations = [
        {"invitation": invitation, "revocable": permissions.may_assign(standing, invitation.role)}
        for invitation in selectors.pending_invitations(enterprise)
    ]
    return {
        "current_enterprise": enterprise,
        "rows": rows,
        "invitations": invitations,
        "invite_form": invite_form or InviteForm(roles=permissions.assignable_roles(standing)),
        "can_hand_over": permissions.allowed(standing, Action.TRANSFER_PRINCIPAL),
    }


@login_required
@require_http_methods(["GET"])
def people(request, cbe: str):
    enterprise = enterprise_for(request, cbe, Action.MANAGE_MEMBERS)
    return render(request, "accounts/enterprise/people.html", _people_context(request, enterprise))


@login_required
@require_POST
def invite(request, cbe: str):
    enterprise = enterprise_for(request, cbe, Action.MANAGE_MEMBERS)
    form = InviteForm(request.POST, roles=permissions.assignable_roles(request.standing))
    if form.is_valid():
        try:
            roles.invite(
                enterprise,
                request.user,
                form.cleaned_data["email"],
                form.cleaned_data["role"],
                actor=web_actor(request),
                base_url=base_url(request),
                ip=client_ip(request),
            )
        except roles.RoleChangeRefused as refused:
            form.add_error("email", refused.message)
        else:
            messages.success(
                request, _("The invitation is sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("accounts:people", cbe=enterprise.cbe)
    context = _people_context(request, enterprise, invite_form=form)
    return render(request, "accounts/enterprise/people.html", context, status=400)


def _run(request, enterprise, action, success: str):
    """Call a role service; a refusal becomes a message on the people page, NotFound a 404."""
    try:
        action()
    except roles.NotFound:
        raise Http404("no such person or invitation") from None
    except roles.RoleChangeRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, success)
    return redirect("accounts:people", cbe=enterprise.cbe)


@login_required
@require_POST
def change_role(request, cbe: str, membership_id: int):
    enterprise = enterprise_for(request, cbe, Action.MANAGE_MEMBERS)
    form = RoleForm(
        request.POST, roles=permissions.assignable_roles(request.standing), prefix=f"m{membership_id}"
    )
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles offered."))
        return redirect("accounts:people", cbe=enterprise.cbe)
    return _run(
        request,
        enterprise,
        lambda: roles.change_role(
            enterprise,
            request.user,
            membership_id,
            form.cleaned_data["role"],
            actor=web_actor(request),
            ip=client_ip(request),
        ),
        _("The role is changed."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def remove_person(request, cbe: str, membership_id: int):
    enterprise = enterprise_for(request, cbe, Action.MANAGE_MEMBERS)
    if request.method == "POST":
        return _run(
            request,
            enterprise,
            lambda: roles.remove_person(
                enterprise, request.user, membership_id, actor=web_actor(request), ip=client_ip(request)
            ),
            _("The person no longer has access to this enterprise."),
        )
    membership = next((m for m in selectors.people_of(enterprise) if m.pk == membership_id), None)
    if membership is None:
        raise Http404("no such person")
    return render(
        request,
        "accounts/enterprise/remove.html",
        {"current_enterprise": enterprise, "membership": membership},
    )


@login_required
@require_POST
def revoke_invitation(request, cbe: str, invitation_id: int):
    enterprise = enterprise_for(request, cbe, Action.MANAGE_MEMBERS)
    return _run(
        request,
        enterprise,
        lambda: roles.revoke_invitation(
            enterprise, request.user, invitation_id, actor=web_actor(request), ip=client_ip(request)
        ),
        _("The invitation is withdrawn."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def hand_over(request, cbe: str):
    enterprise = enterprise_for(request, cbe, Action.TRANSFER_PRINCIPAL)
    candidates = [
        m
        for m in selectors.people_of(enterprise)
        if m.user_id != request.user.pk and m.role in permissions.INSIDERS
    ]
    form = HandOverForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        return _run(
            request,
            enterprise,
            lambda: roles.hand_over_principal(
                enterprise,
                request.user,
                form.cleaned_data["successor"],
                actor=web_actor(request),
                ip=client_ip(request),
            ),
            _("The principal access manager role is handed over. You are now co-principal access manager."),
        )
    return render(
        request,
        "accounts/enterprise/hand_over.html",
        {"current_enterprise": enterprise, "form": form, "candidates": candidates},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def leave(request, cbe: str):
    enterprise = enterprise_for(request, cbe, Action.LEAVE)
    if request.method == "POST":
        try:
            roles.leave(enterprise, request.user, actor=web_actor(request), ip=client_ip(request))
        except roles.RoleChangeRefused as refused:
            messages.error(request, refused.message)
            return redirect("accounts:settings")
        messages.success(request, _("You left %(name)s.") % {"name": enterprise.name})
        return redirect("accounts:settings")
    return render(request, "accounts/enterprise/leave.html", {"current_enterprise": enterprise})


ROLE_CHANGES = {
    "registered": gettext_lazy("%(person)s registered the enterprise and became %(to)s."),
    "invited": gettext_lazy("%(person)s was invited as %(to)s."),
    "invitation_revoked": gettext_lazy("The invitation of %(person)s (%(to)s) was withdrawn."),
    "invitation_accepted": gettext_lazy("%(person)s accepted the invitation as %(to)s."),
    "changed": gettext_lazy("The role of %(person)s changed from %(from)s to %(to)s."),
    "removed": gettext_lazy("%(person)s (%(from)s) was removed."),
    "principal_handed_over": gettext_lazy("The principal access manager role was handed over to %(person)s."),
    "left": gettext_lazy("%(person)s (%(from)s) left the enterprise."),
    "set_by_operator": gettext_lazy("The operator gave %(person)s the role %(to)s."),
}
TWO_FACTOR_CHANGES = {
    "enabled": gettext_lazy("Two-factor authentication turned on."),
    "replaced": gettext_lazy("Authenticator app replaced."),
    "disabled": gettext_lazy("Two-factor authentication turned off."),
    "recovery_code_used": gettext_lazy("A recovery code was used."),
    "recovery_codes_renewed": gettext_lazy("New recovery codes were made."),
}


def describe(event) -> str:
    """One sentence about a security event, in the reader's language."""
    details = event.details or {}
    role_names = dict(Role.choices)
    if event.kind == "role_changed" and details.get("change") in ROLE_CHANGES:
        values = {
            "person": details.get("person", ""),
            "from": role_names.get(details.get("from"), "—"),
            "to": role_names.get(details.get("to"), "—"),
        }
        return ROLE_CHANGES[details["change"]] % values
    if event.kind == "two_factor_changed" and details.get("change") in TWO_FACTOR_CHANGES:
        return str(TWO_FACTOR_CHANGES[details["change"]])
    if event.kind == "login_failed":
        return _("Wrong password.")
    if event.kind == "login_locked":
        minutes = details.get("minutes")
        if isinstance(minutes, int):
            return ngettext(
                "Sign-in locked for %(minutes)d minute after repeated wrong passwords.",
                "Sign-in locked for %(minutes)d minutes after repeated wrong passwords.",
                minutes,
            ) % {"minutes": minutes}
        return _("Sign-in locked after repeated wrong passwords.")
    if event.kind in LINK_EVENTS:
        return LINK_EVENTS[event.kind](details)
    return "; ".join(
        f"{key}: {value}" for key, value in sorted(details.items()) if not isinstance(value, dict | list)
    )


def _linked(details: dict) -> str:
    return _("Business account %(number)s.") % {"number": details.get("client_number", "—")}


def _link_removed(details: dict) -> str:
    number = {"number": details.get("client_number", "—")}
    if details.get("by") == "removal link":
        text = _("Business account %(number)s: removed with the link e-mailed to its contacts.") % number
    elif details.get("by") == "the person":
        text = _("Business account %(number)s: removed by the linked person.") % number
    else:
        text = _("Business account %(number)s.") % number
    if details.get("membership_removed"):
        text += " " + _("The member access that the link gave was removed too.")
    return text


def _link_refused(details: dict) -> str:
    if details.get("reason") == "rate_limited":
        return _("Too many attempts: linking is paused for an hour.")
    return _("The details given did not match a business account.")


def _suspicious(details: dict) -> str:
    values = {"number": details.get("client_number", "—"), "person": details.get("linked_person", "—")}
    if details.get("reported_by") == "contact":
        text = _(
            "Business account %(number)s, person linked: %(person)s. Reported by a contact of the account."
        )
    else:
        text = _("Business account %(number)s, person linked: %(person)s. Reported by the linked person.")
    return text % values


LINK_EVENTS = {
    "account_linked": _linked,
    "account_link_removed": _link_removed,
    "account_link_refused": _link_refused,
    "suspicious_activity": _suspicious,
}


@login_required
@require_http_methods(["GET"])
def security_log(request, cbe: str):
    enterprise = enterprise_for(request, cbe, Action.VIEW_SECURITY_LOG)
    page = selectors.security_log(enterprise, selectors.Cursor.decode(request.GET.get("before")))
    return render(
        request,
        "accounts/enterprise/security_log.html",
        {
            "current_enterprise": enterprise,
            "events": [{"event": event, "description": describe(event)} for event in page.events],
            "next_url": (
                reverse("accounts:security_log", args=[enterprise.cbe])
                + "?"
                + urlencode({"before": page.next_cursor.encode()})
                if page.next_cursor
                else ""
            ),
            "first_page": "before" in request.GET,
        },
    )


# --- invitations, seen by the invited person -------------------------------------------------------


def invitation(request, token: str):
    """The e-mailed link: keep the token in the session, out of the URL, and show the invitation."""
    request.session[INVITATION_TOKEN] = token
    return redirect("accounts:invitation_accept")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request):
    token = request.session.get(INVITATION_TOKEN) or ""
    found = roles.invitation_for_token(token) if token else None
    if found is None:
        return render(request, "accounts/enterprise/invitation_invalid.html", status=404)
    state = roles.invitation_state(found)
    context = {
        "invitation": found,
        "enterprise": found.enterprise,
        "role": Role(found.role).label,
        "refusal": roles.REFUSALS.get(state),
        "accept_url": reverse("accounts:invitation_accept"),
    }
    if state != roles.InvitationState.PENDING:
        return render(request, "accounts/enterprise/invitation.html", context, status=410)
    if not request.user.is_authenticated:
        return render(request, "accounts/enterprise/invitation.html", context)
    context["other_address"] = request.user.email.lower() != found.email.lower()
    if request.method == "POST":
        try:
            roles.accept_invitation(token, request.user, actor=web_actor(request), ip=client_ip(request))
        except roles.NotFound:
            raise Http404("no such invitation") from None
        except roles.RoleChangeRefused as refused:
            context["refusal"] = refused.message
            return render(request, "accounts/enterprise/invitation.html", context, status=400)
        request.session.pop(INVITATION_TOKEN, None)
        messages.success(
            request,
            _("You now have access to %(name)s as %(role)s.")
            % {"name": found.enterprise.name, "role": context["role"]},
        )
        return redirect("mailbox:list", cbe=found.enterprise.cbe)
    return render(request, "accounts/enterprise/invitation.html", context)
