"""The web mailbox: the list of an enterprise's messages with its filters and keyset pages, and
hiding or showing messages (one or many). The message page and documents are in
``views_message``, the e-Box management page in ``views_management``.

The list shows one space of the box at a time (``?folder=``: "documents", the e-Box, or
"purchases"), every origin (the e-Box API's messages and the documents sent by e-mail), and the
space's e-mail address. A person's "My documents" (``coffre.intake.views_personal``) reuses the
same list, message page and templates, through ``BoxPages`` (where that box's pages are).

Every view finds the enterprise of the URL through ``enterprise_for``, which applies the permission
matrix (404 without standing, 403 without the role); views only parse, call one selector or
service, and render.
"""

import datetime as dt
from dataclasses import dataclass, replace

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from coffre.accounts.models import Enterprise
from coffre.accounts.permissions import Action, allowed, require
from coffre.audit.services import Actor
from coffre.intake import selectors as intake_selectors
from coffre.intake import services as intake_services
from coffre.mailbox import selectors, selectors_web, services
from coffre.mailbox.forms import MessageListForm, VisibilityForm
from coffre.mailbox.models import Ebox, Folder, Message, Origin
from coffre.mailbox.selectors_web import Cursor
from coffre.mailbox.translations import LANGUAGES, in_language

LIST_TARGET = "message-region"  # the id of the region that htmx replaces
LIST_KEYS = ("folder", "q", "unread", "sender", "type", "received_from", "received_to", "expiring", "hidden")
MAX_RETURN_QUERY = 2000


def enterprise_for(request, cbe: str, action: Action) -> Enterprise:
    """The enterprise of the URL, when the person may do ``action`` there (else 404/403)."""
    enterprise = get_object_or_404(Enterprise, cbe=cbe, active=True)
    request.standing = require(request.user, action, enterprise)
    return enterprise


def ebox_for(request, cbe: str, action: Action) -> tuple[Enterprise, Ebox]:
    enterprise = enterprise_for(request, cbe, action)
    ebox = selectors.ebox_of(enterprise.cbe)
    if ebox is None:
        raise Http404("no e-Box")
    return enterprise, ebox


def web_actor(request, url: str | None = None) -> Actor:
    """The person acting through the portal, for the audit trail (``url`` replaces a URL that
    carries a secret)."""
    return Actor(
        kind="web",
        name=request.user.email if request.user.is_authenticated else "anonymous",
        method=request.method,
        url=url if url is not None else request.get_full_path(),
    )


def page_language() -> str:
    """The language the page is shown in: subjects and names are given in it, search uses it."""
    code = (translation.get_language() or "fr")[:2]
    return code if code in LANGUAGES else "fr"


def is_partial(request, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


def private(response):
    """Documents and their lists are never kept by shared caches nor on disk by the browser."""
    patch_cache_control(response, private=True, no_store=True)
    return response


@dataclass(frozen=True)
class BoxPages:
    """Where the pages of one box are: an enterprise's e-Box (URL arguments: its CBE number) or a
    person's "My documents" (none)."""

    list_view: str
    message_view: str
    download_view: str
    preview_view: str
    visibility_view: str | None  # None: no hiding and showing here
    args: tuple = ()

    @classmethod
    def of_enterprise(cls, enterprise: Enterprise) -> "BoxPages":
        return cls(
            "mailbox:list", "mailbox:message", "mailbox:download", "mailbox:preview", "mailbox:visibility",
            (enterprise.cbe,),
        )

    @property
    def list_url(self) -> str:
        return reverse(self.list_view, args=self.args)

    @property
    def visibility_url(self) -> str | None:
        return reverse(self.visibility_view, args=self.args) if self.visibility_view else None

    def message_url(self, message_id: str) -> str:
        return reverse(self.message_view, args=[*self.args, message_id])

    def attachment_url(self, view: str, message_id: str, attachment_id: str) -> str:
        return reverse(view, args=[*self.args, message_id, attachment_id])


@dataclass
class Row:
    message: Message
    subject: str
    sender: str
    message_type: str
    attachments: int
    expiring_soon: bool
    url: str = ""

    @property
    def read(self) -> bool:
        return self.message.read_at is not None


def sender_of(message: Message, lang: str) -> str:
    """Who sent a message: the sender organization, the name an agent gave, or the e-mail address."""
    if message.sender_organization_id is None:
        return message.sender_name or message.sender_address
    organization = message.sender_organization
    return in_language(organization.short_name, lang) or organization.organization_id


def type_of(message: Message, lang: str) -> str:
    """The message type's name; for a document sent by e-mail (or by an agent), its origin."""
    if message.message_type_id is None:
        if message.origin == Origin.EMAIL:
            return _("Document by e-mail")
        return str(Origin(message.origin).label)
    return in_language(message.message_type.name, lang) or message.message_type.message_type_id


def folder_of(box: Ebox, query: QueryDict) -> str:
    """The space the list shows: the query's folder when the box has it, else "documents"."""
    wanted = query.get("folder")
    return wanted if wanted in box.folders() else Folder.DOCUMENTS


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    current: bool


def folder_tabs(box: Ebox, pages: BoxPages, folder: str) -> list[Tab]:
    if len(box.folders()) < 2:
        return []
    return [
        Tab(
            str(Folder(name).label),
            pages.list_url if name == Folder.DOCUMENTS else f"{pages.list_url}?folder={name}",
            name == folder,
        )
        for name in box.folders()
    ]


def _clean_query(query: QueryDict) -> QueryDict:
    """The list's own parameters only (filters and cursor), for links and returns."""
    kept = QueryDict(mutable=True)
    for key in (*LIST_KEYS, "after", "before"):
        values = [value for value in query.getlist(key) if len(value) <= 200]
        if values:
            kept.setlist(key, values[:1])
    return kept


def _with(query: QueryDict, **changes) -> str:
    result = query.copy()
    for key in ("after", "before"):
        result.pop(key, None)
    for key, value in changes.items():
        result[key] = value
    return result.urlencode()


def list_context(
    request,
    box: Ebox,
    query: QueryDict,
    pages: BoxPages,
    *,
    current_enterprise: Enterprise | None = None,
    can_hide: bool = False,
    regenerate_url=None,
) -> dict:
    """What the list of one space of ``box`` shows (every origin), from the query's filters and
    cursor. ``regenerate_url(folder)``: where the space's address is replaced, for those who may."""
    lang = page_language()
    query = _clean_query(query)
    folder = folder_of(box, query)
    form = MessageListForm(query, lang=lang)
    form.is_valid()
    today = timezone.localdate()
    filters = replace(form.filters(today), origin=None, folder=folder)
    matching = selectors_web.messages_matching(box, filters)
    page = selectors_web.keyset_page(
        selectors_web.list_rows(matching),
        after=Cursor.decode(query.get("after")),
        before=Cursor.decode(query.get("before")),
        size=selectors_web.PAGE_SIZE,
    )
    if page.previous_cursor is None and page.next_cursor is None:
        count, more = len(page.items), False  # the page holds every match: nothing to count
    else:
        count, more = selectors_web.capped_count(matching, selectors_web.COUNT_CAP)
    counts = selectors_web.attachment_counts(page.items)
    soon = timezone.now() + dt.timedelta(days=selectors_web.EXPIRING_SOON_DAYS)
    rows = [
        Row(
            message=item,
            subject=in_language(item.subject, lang),
            sender=sender_of(item, lang),
            message_type=type_of(item, lang),
            attachments=counts.get(item.pk, 0),
            expiring_soon=item.expiration_date <= soon,
            url=pages.message_url(item.message_id),
        )
        for item in page.items
    ]
    list_url = pages.list_url
    filters_query = _with(query)
    folder_query = f"?folder={folder}" if folder != Folder.DOCUMENTS else ""
    address = intake_services.address_for(box, folder, web_actor(request))
    return {
        "current_enterprise": current_enterprise,
        "personal": box.is_personal,
        "folder": folder,
        "folder_tabs": folder_tabs(box, pages, folder),
        "intake_address": intake_selectors.full_address(address),
        "regenerate_url": regenerate_url(folder) if regenerate_url else None,
        "list_url": list_url,
        "visibility_url": pages.visibility_url,
        "clear_url": f"{list_url}{folder_query}",
        "form": form,
        "rows": rows,
        "count": count,
        "count_capped": more,
        "count_cap": selectors_web.COUNT_CAP,
        "next_url": f"{list_url}?{_with(query, after=page.next_cursor.encode())}"
        if page.next_cursor
        else None,
        "previous_url": (
            f"{list_url}?{_with(query, before=page.previous_cursor.encode())}"
            if page.previous_cursor
            else None
        ),
        "first_url": f"{list_url}?{filters_query}" if filters_query else list_url,
        "return_query": query.urlencode(),
        "can_hide": can_hide and pages.visibility_url is not None,
        "list_target": LIST_TARGET,
    }


def enterprise_list_context(request, enterprise: Enterprise, ebox: Ebox, query: QueryDict) -> dict:
    standing = getattr(request, "standing", None)
    return list_context(
        request, ebox, query, BoxPages.of_enterprise(enterprise),
        current_enterprise=enterprise,
        can_hide=allowed(standing, Action.HIDE_MESSAGES),
        regenerate_url=(lambda folder: reverse("intake:regenerate_address", args=[enterprise.cbe, folder]))
        if allowed(standing, Action.REGENERATE_INTAKE_ADDRESSES)
        else None,
    )


@login_required
@require_GET
def message_list(request, cbe: str):
    enterprise, ebox = ebox_for(request, cbe, Action.VIEW_MESSAGES)
    services.note_consultation(ebox)
    context = enterprise_list_context(request, enterprise, ebox, request.GET)
    template = "mailbox/_messages.html" if is_partial(request, LIST_TARGET) else "mailbox/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return private(response)


@login_required
@require_POST
def change_visibility(request, cbe: str):
    """Hide or show the chosen messages: all of them, or none when one is not of this e-Box."""
    enterprise, ebox = ebox_for(request, cbe, Action.HIDE_MESSAGES)
    form = VisibilityForm(request.POST)
    return_query = QueryDict(request.POST.get("return_query", "")[:MAX_RETURN_QUERY])
    if form.is_valid():
        chosen = form.cleaned_data["chosen"]
        try:
            services.set_visibility(
                ebox, {message_id: form.visible for message_id in chosen}, web_actor(request), origin=None
            )
        except services.MessageNotFound:
            raise Http404("no such message in this e-Box") from None
        if form.visible:
            note = ngettext(
                "%(count)d message is shown again.", "%(count)d messages are shown again.", len(chosen)
            )
        else:
            note = ngettext("%(count)d message is hidden.", "%(count)d messages are hidden.", len(chosen))
        note, level = note % {"count": len(chosen)}, flash.SUCCESS
    else:
        chosen = []
        errors = form.non_field_errors() or [_("Choose hide or show.")]
        note, level = errors[0], flash.ERROR
    if is_partial(request, LIST_TARGET):
        context = enterprise_list_context(request, enterprise, ebox, return_query)
        context["note"], context["note_is_error"] = note, level == flash.ERROR
        return private(render(request, "mailbox/_messages.html", context))
    flash.add_message(request, level, note)
    if request.POST.get("return_to") == "message" and len(chosen) == 1:
        return redirect("mailbox:message", cbe=enterprise.cbe, message_id=chosen[0])
    query = _clean_query(return_query).urlencode()
    url = reverse("mailbox:list", args=[enterprise.cbe])
    return redirect(f"{url}?{query}" if query else url)
