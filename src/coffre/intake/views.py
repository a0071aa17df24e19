"""The "E-mail access" page of an enterprise (seed 002), for the approvers of senders: tab "E-mail"
(every address that sent documents, its status, the decisions the person may take, and the
waiting mails that have no address to approve) and tab "Activity" (every mail received, keyset
pages); and replacing a space's e-mail address.

Every view applies the permission matrix first (404 without standing, 403 without the role or
when the person is not one of the approvers: ``permissions.require_sender_approver``), then one
selector or service. Decisions are POST forms (CSRF), and work without JavaScript.
"""

from dataclasses import dataclass

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from coffre.accounts.models import Enterprise
from coffre.accounts.permissions import Action, require, require_sender_approver
from coffre.intake import selectors, services
from coffre.intake.models import IntakeMail, MailOutcome, SenderStatus
from coffre.intake.rules import Rule
from coffre.mailbox.models import Ebox, Folder
from coffre.mailbox.selectors_web import Cursor
from coffre.mailbox.views import private, web_actor

DECISION_ACTIONS = {
    services.ACCEPT: Action.ACCEPT_SENDERS,
    services.REFUSE: Action.REFUSE_SENDERS,
    services.BLACKLIST: Action.BLACKLIST_SENDERS,
    services.LIFT: Action.LIFT_BLACKLIST,
}
MAIL_DECISIONS = {"accept": Action.ACCEPT_SENDERS, "discard": Action.REFUSE_SENDERS}
DECISION_LABELS = {
    services.ACCEPT: gettext_lazy("Accept"),
    services.REFUSE: gettext_lazy("Refuse"),
    services.BLACKLIST: gettext_lazy("Blacklist"),
    services.LIFT: gettext_lazy("Lift the blacklist"),
}


def decision_done(decision: str, address: str, done: services.Decided) -> str:
    """What the person is told after a decision about an address."""
    if decision == services.ACCEPT:
        text = ngettext(
            "%(address)s is authorized; %(count)d waiting e-mail was stored.",
            "%(address)s is authorized; %(count)d waiting e-mails were stored.",
            done.stored,
        )
        return text % {"address": address, "count": done.stored}
    if decision == services.REFUSE:
        text = ngettext(
            "%(address)s is refused; %(count)d waiting e-mail was discarded.",
            "%(address)s is refused; %(count)d waiting e-mails were discarded.",
            done.discarded,
        )
        return text % {"address": address, "count": done.discarded}
    if decision == services.BLACKLIST:
        text = ngettext(
            "%(address)s is blacklisted; %(count)d waiting e-mail was discarded.",
            "%(address)s is blacklisted; %(count)d waiting e-mails were discarded.",
            done.discarded,
        )
        return text % {"address": address, "count": done.discarded}
    return _("The blacklist of %(address)s is lifted: its next e-mail waits for approval.") % {
        "address": address
    }


VERDICT_LABELS = {
    "pass": gettext_lazy("Authenticated"),
    "fail": gettext_lazy("Authentication failed"),
    "none": gettext_lazy("Unauthenticated"),
    "disabled": gettext_lazy("Unauthenticated (sender authentication off)"),
    "temperror": gettext_lazy("Not checked (DNS did not answer)"),
}
RULE_LABELS = {
    Rule.OWN_ADDRESS: gettext_lazy("The account's own address"),
    Rule.OWN_ADDRESS_UNAUTHENTICATED: gettext_lazy("The account's own address, unauthenticated"),
    Rule.NOT_OWN_ADDRESS: gettext_lazy("Not the account's address"),
    Rule.NO_SENDER: gettext_lazy("No usable sender address"),
    Rule.BLACKLISTED: gettext_lazy("Blacklisted address"),
    Rule.INSIDER: gettext_lazy("A person of the enterprise"),
    Rule.FAVOURITE: gettext_lazy("A collaborator with the enterprise in favourites"),
    Rule.AUTHORIZED: gettext_lazy("An authorized address"),
    Rule.COLLABORATOR_WITHOUT_FAVOURITE: gettext_lazy("A collaborator without the enterprise in favourites"),
    Rule.UNKNOWN: gettext_lazy("An unknown address"),
    Rule.UNAUTHENTICATED: gettext_lazy("An unauthenticated sender"),
    Rule.AUTHENTICATION_FAILED: gettext_lazy("A sender failing authentication"),
}
# Why a file of a mail was not stored (the codes of coffre.intake.mime's refusals).
REFUSAL_LABELS = {
    "executable": gettext_lazy("a program"),
    "script": gettext_lazy("a script"),
    "macro": gettext_lazy("an office document with macros"),
    "active-content": gettext_lazy("HTML or SVG, which can hold scripts"),
    "archive-bomb": gettext_lazy("an archive that unpacks to too much"),
    "nested-archive": gettext_lazy("an archive inside an archive"),
    "archive": gettext_lazy("an archive that cannot be checked"),
    "archive-format": gettext_lazy("an archive format that is not accepted"),
    "encrypted": gettext_lazy("encrypted"),
    "damaged": gettext_lazy("damaged"),
    "unreadable": gettext_lazy("damaged"),
    "too-large": gettext_lazy("too large"),
    "too-many-documents": gettext_lazy("too many documents in one e-mail"),
    "too-many-parts": gettext_lazy("too many parts in one e-mail"),
    "too-deep": gettext_lazy("forwarded or nested too deep"),
}
REFUSAL_OTHER = gettext_lazy("a file type that is not accepted")


def _approver_page(request, cbe: str, action: Action) -> tuple[Enterprise, Ebox, frozenset]:
    enterprise = get_object_or_404(Enterprise, cbe=cbe, active=True)
    request.standing, kinds = require_sender_approver(request.user, action, enterprise)
    box = Ebox.objects.select_related("enterprise").filter(enterprise=enterprise).first()
    if box is None:
        raise Http404("no e-Box")
    return enterprise, box, kinds


def space_label(box: Ebox, folder: str) -> str:
    if box.is_personal:
        return _("My documents")
    return str(Folder(folder).label)


@dataclass
class SenderRow:
    address: str
    status: str
    waiting: int
    last_mail_at: object
    decides: str  # who decides about it, or why it goes straight in
    decisions: list[tuple[str, str]]  # (decision, label) the person may take
    approval_id: int | None = None


@dataclass
class ActivityRow:
    mail: IntakeMail
    space: str
    verdict: str
    rule: str
    outcome: str
    duplicates: list[str]
    refused: list[tuple[str, str]]  # (file name, why it was not stored)


def _tabs(cbe: str, current: str) -> list[tuple[str, str, bool]]:
    return [
        (_("E-mail"), reverse("intake:email_access", args=[cbe]), current == "email"),
        (_("Activity"), reverse("intake:email_activity", args=[cbe]), current == "activity"),
    ]


@login_required
@require_GET
def email_access(request, cbe: str):
    enterprise, box, kinds = _approver_page(request, cbe, Action.ACCEPT_SENDERS)
    rows = []
    for approval in selectors.senders_of(enterprise):
        allowed = services.may_decide(kinds, approval.approvers)
        rows.append(SenderRow(
            address=approval.address,
            status=SenderStatus(approval.status).label,
            waiting=approval.waiting_count,
            last_mail_at=approval.last_mail_at,
            decides=approval.get_approvers_display(),
            decisions=[(decision, DECISION_LABELS[decision]) for decision in services.decisions_for(approval)]
            if allowed else [],
            approval_id=approval.pk,
        ))
    # Addresses that went straight in by the rules, never decided about: authorized as they are.
    for sender in selectors.direct_senders(box, {row.address for row in rows}):
        rows.append(SenderRow(
            address=sender.address,
            status=SenderStatus.AUTHORIZED.label,
            waiting=0,
            last_mail_at=sender.last_mail_at,
            decides=RULE_LABELS[Rule(sender.rule)],
            decisions=[],
        ))
    without_address = [
        (pending, services.may_decide(kinds, pending.approvers))
        for pending in selectors.waiting_without_address(box)
    ]
    actor = web_actor(request)
    addresses = [
        (space_label(box, folder), selectors.full_address(services.address_for(box, folder, actor)))
        for folder in box.folders()
    ]
    context = {
        "current_enterprise": enterprise,
        "tabs": _tabs(enterprise.cbe, "email"),
        "senders": rows,
        "without_address": without_address,
        "addresses": addresses,
    }
    return private(render(request, "intake/email_access.html", context))


@login_required
@require_GET
def email_activity(request, cbe: str):
    enterprise, box, _kinds = _approver_page(request, cbe, Action.ACCEPT_SENDERS)
    page = selectors.activity_page(box, Cursor.decode(request.GET.get("after")))
    rows = [
        ActivityRow(
            mail=mail,
            space=space_label(box, mail.folder),
            verdict=VERDICT_LABELS.get(mail.verdict_status, mail.verdict_status),
            rule=RULE_LABELS.get(mail.rule, ""),
            outcome=MailOutcome(mail.outcome).label,
            duplicates=[item.get("file_name", "") for item in mail.details.get("duplicates", [])],
            refused=[
                (item.get("file") or _("(no name)"), REFUSAL_LABELS.get(item.get("code"), REFUSAL_OTHER))
                for item in mail.details.get("refused", [])
            ],
        )
        for mail in page.items
    ]
    url = reverse("intake:email_activity", args=[enterprise.cbe])
    context = {
        "current_enterprise": enterprise,
        "tabs": _tabs(enterprise.cbe, "activity"),
        "rows": rows,
        "next_url": f"{url}?after={page.next_cursor.encode()}" if page.next_cursor else None,
        "first_url": url if request.GET.get("after") else None,
    }
    return private(render(request, "intake/email_activity.html", context))


@login_required
@require_POST
def sender_decision(request, cbe: str, approval_id: int):
    decision = request.POST.get("decision", "")
    enterprise, _box, kinds = _approver_page(
        request, cbe, DECISION_ACTIONS.get(decision, Action.ACCEPT_SENDERS)
    )
    approval = selectors.approval_in(enterprise, approval_id)
    if approval is None:
        raise Http404("no such sender address")
    if decision not in DECISION_ACTIONS:
        return HttpResponseBadRequest(_("Choose accept, refuse, blacklist or lift the blacklist."))
    if not services.may_decide(kinds, approval.approvers):
        raise PermissionDenied("another approver decides about this address")
    try:
        done = services.decide_sender(
            approval, decision, by=request.user, kinds=kinds, actor=web_actor(request)
        )
    except services.DecisionRefused:
        flash.error(
            request,
            _("This decision does not apply to %(address)s as it is now.") % {"address": approval.address},
        )
    else:
        flash.success(request, decision_done(decision, approval.address, done))
    return redirect("intake:email_access", cbe=enterprise.cbe)


@login_required
@require_POST
def mail_decision(request, cbe: str, pending_id: int):
    """Accept or discard one waiting mail that has no address to approve."""
    decision = request.POST.get("decision", "")
    enterprise, box, kinds = _approver_page(request, cbe, MAIL_DECISIONS.get(decision, Action.ACCEPT_SENDERS))
    pending = selectors.pending_in(box, pending_id)
    if pending is None or pending.approval_id is not None:
        raise Http404("no such waiting e-mail")
    if decision not in MAIL_DECISIONS:
        return HttpResponseBadRequest(_("Choose accept or discard."))
    if not services.may_decide(kinds, pending.approvers):
        raise PermissionDenied("another approver decides about this e-mail")
    act = services.accept_mail if decision == "accept" else services.discard_mail
    try:
        act(pending, by=request.user, kinds=kinds, actor=web_actor(request))
    except services.DecisionRefused:
        flash.error(request, _("This e-mail no longer waits for a decision."))
    else:
        flash.success(
            request, _("The e-mail is stored.") if decision == "accept" else _("The e-mail is discarded.")
        )
    return redirect("intake:email_access", cbe=enterprise.cbe)


@login_required
@require_POST
def regenerate_address(request, cbe: str, folder: str):
    enterprise = get_object_or_404(Enterprise, cbe=cbe, active=True)
    request.standing = require(request.user, Action.REGENERATE_INTAKE_ADDRESSES, enterprise)
    box = Ebox.objects.filter(enterprise=enterprise).first()
    if box is None or folder not in box.folders():
        raise Http404("no such space")
    address = services.regenerate_address(box, folder, web_actor(request))
    flash.success(
        request,
        _("The new address of this space is %(address)s; mail to the old one is refused.")
        % {"address": selectors.full_address(address)},
    )
    url = reverse("mailbox:list", args=[enterprise.cbe])
    return redirect(url if folder == Folder.DOCUMENTS else f"{url}?folder={folder}")
