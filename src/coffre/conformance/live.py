"""The scripted scenario: every operation of the contract called with valid requests, the
documented error statuses provoked on purpose, and the rules of NOTES.md visible from outside.

Roles: the demo's ONSS ``sender`` client publishes (Document Sender); the ``conformance`` client
of the demo enterprise reads its e-Box (Document Consumer) and replies to ONSS. Every response is
validated against the Swagger schema of its operation and status (``calls.Api``); each check
prints one PASS/FAIL line.
"""

import json
import re

from coffre.conformance import access
from coffre.conformance.calls import UNKNOWN_ID, Api, Call, b64url_sha256
from coffre.conformance.report import Report
from coffre.conformance.server import REFERENCE_DATA_SCOPE, SCOPE_PREFIX, Instance, Server, tiny_png
from coffre.conformance.spec import Contract
from coffre.core.cbe import make_cbe

PUBLICATION_SCOPE = SCOPE_PREFIX + "publicationsender"
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"% Coffre conformance: avis de cotisation\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
NOTE = "Pièce jointe de contrôle: texte en UTF-8.\n".encode()
HELENE = "Rappel: cotisation trimestrielle de Hélène"
UNREGISTERED_CBE = make_cbe(9_999_998)  # a valid CBE number that no enterprise of the instance has
SEARCHES = (
    ("helene", True),
    ("COTISATION TRI", True),
    ("ène", True),
    ("trimestrielle de Rappel", False),
    ("cotisation  trimestrielle", False),
)
REFERENCE_OPERATIONS = (
    "/referenceData/messageTypes",
    "/referenceData/senderOrganizations",
    "/referenceData/senderApplications",
)


def _ids(call: Call) -> list[str]:
    body = call.json() or {}
    return [item.get("messageId") for item in body.get("items") or []]


def _max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match.group(1)) if match else 0


class Scenario:
    def __init__(self, server: Server, instance: Instance, contract: Contract, report: Report):
        self.server = server
        self.instance = instance
        self.contract = contract
        self.report = report
        self.api = Api(instance.root, contract)
        self.reader = server.token(instance.conformance)
        self.reader_refdata_only = server.token(instance.conformance, REFERENCE_DATA_SCOPE)
        self.reader_publication_only = server.token(instance.conformance, PUBLICATION_SCOPE)
        self.sender = server.token(instance.sender)
        self.ids: dict[str, str] = {}

    # --- helpers ------------------------------------------------------------------------------------

    def expect(
        self,
        name: str,
        call: Call,
        status: int,
        code: str | None = None,
        condition: bool = True,
        why: str = "",
    ) -> bool:
        passed = (
            call.status == status and not call.problems and (code is None or call.code == code) and condition
        )
        detail = call.summary()
        if call.status != status:
            detail += f" (expected {status}{' ' + code if code else ''})"
        elif code is not None and call.code != code:
            detail += f" (expected code {code})"
        if why:
            detail += f"; {why}"
        return self.report.check(name, passed, detail)

    def description(self, recipient: str, subject: dict, attachments: list, **extra) -> dict:
        return {
            "recipient": {"eboxType": "enterprise", "eboxIdValue": recipient},
            "subject": subject,
            "messageTypeId": "ATTEST",
            "senderOrganizationId": self.instance.institution,
            "senderApplicationId": "DMFA",
            "bodyMainContent": False,
            "replyAuthorized": False,
            "attachments": attachments,
            **extra,
        }

    def publish(
        self, token: str | None, description: dict | str, files: list, json_last: bool = False
    ) -> Call:
        """POST publishMessage; ``files`` = [(part, file name, bytes, media type)] in sending order."""
        text = description if isinstance(description, str) else json.dumps(description)
        parts = [(part, (file_name, content, media_type)) for part, file_name, content, media_type in files]
        json_part = ("messageToPublish", (None, text, "application/json"))
        return self.api.call(
            "POST", "/publishMessage", token, files=parts + [json_part] if json_last else [json_part] + parts
        )

    def pdf_message(self, recipient: str, subject: dict | None = None, **extra) -> tuple[dict, list]:
        attachment = {
            "httpPartName": "upfile1",
            "mainContent": True,
            "digest": {"digestMethod": "sha_256", "digestValue": b64url_sha256(PDF)},
        }
        description = self.description(
            recipient, subject or {"fr": "Attestation de régularité"}, [attachment], **extra
        )
        return description, [("upfile1", "attestation.pdf", PDF, "application/pdf")]

    def messages(self, token: str | None = None, **params) -> Call:
        return self.api.call("GET", "/ebox/messages", self.reader if token is None else token, params=params)

    def message(self, message_id: str) -> dict:
        return self.api.call(
            "GET", "/ebox/messages/{messageId}", self.reader, path={"messageId": message_id}
        ).json()

    # --- the scenario -----------------------------------------------------------------------------------

    def run(self) -> None:
        for title, step in (
            ("Reference data", self.reference_data),
            ("E-Box summary", self.summary),
            ("Publication", self.publication),
            ("Consultation", self.consultation),
            ("Reading marks messages read", self.reading),
            ("Visibility (PATCH)", self.visibility),
            ("Broadcast and publication status", self.broadcast_and_status),
            ("Access: 401 and 403 on every operation", lambda: access.check_access(self)),
            ("Coverage of the contract", lambda: access.check_coverage(self)),
        ):
            self.report.section(title)
            try:
                step()
            except Exception as exc:  # a broken step is a failure, and the other steps still run
                self.report.check(f"{title}: step completed", False, f"{type(exc).__name__}: {exc}")

    def reference_data(self) -> None:
        instance, token = self.instance, self.reader
        by_id = {
            "/referenceData/messageTypes": ("messageTypeId", "ATTEST"),
            "/referenceData/senderOrganizations": ("senderOrganizationId", instance.institution),
            "/referenceData/senderApplications": ("senderApplicationId", "DMFA"),
        }
        for template in REFERENCE_OPERATIONS:
            listing = self.api.call("GET", template, token)
            body = listing.json() or {}
            self.expect(
                f"list {template}",
                listing,
                200,
                condition=isinstance(body.get("items"), list) and body.get("totalItems", 0) >= 1,
                why=f"{body.get('totalItems')} item(s)",
            )
            self.cache_headers(template, listing)
            name, value = by_id[template]
            item_template = f"{template}/{{{name}}}"
            item = self.api.call("GET", item_template, token, path={name: value})
            self.expect(f"get {item_template} ({value})", item, 200)
            self.cache_headers(item_template, item)
            self.expect(
                f"unknown {name} -> 404",
                self.api.call("GET", item_template, token, path={name: "NOPE-0"}),
                404,
            )
            self.expect(
                f"{template}?page=0 -> 400", self.api.call("GET", template, token, params={"page": 0}), 400
            )
            self.expect(
                f"{template}?pageSize=101 -> 400",
                self.api.call("GET", template, token, params={"pageSize": 101}),
                400,
            )
            beyond = self.api.call("GET", template, token, params={"page": 1000})
            self.expect(
                f"{template}?page=1000 -> 200 with items []",
                beyond,
                200,
                condition=(beyond.json() or {}).get("items") == [],
            )
        for kind, (owner_id, image_id) in (
            ("senderOrganizations", instance.organization_logo),
            ("senderApplications", instance.application_logo),
        ):
            owner = "senderOrganizationId" if kind == "senderOrganizations" else "senderApplicationId"
            template = f"/referenceData/{kind}/{{{owner}}}/images/{{imageId}}/content"
            image = self.api.call("GET", template, token, path={owner: owner_id, "imageId": image_id})
            self.expect(
                f"logo of {owner_id}: same bytes as registered, image/png",
                image,
                200,
                condition=image.response.content == instance.logo_bytes
                and image.response.headers.get("Content-Type") == "image/png",
            )
            self.cache_headers(template, image)
            self.expect(
                f"unknown logo of {owner_id} -> 404",
                self.api.call("GET", template, token, path={owner: owner_id, "imageId": UNKNOWN_ID}),
                404,
            )

    def cache_headers(self, template: str, call: Call) -> None:
        cache_control = call.response.headers.get("Cache-Control", "")
        self.report.check(
            f"Cache-Control of {template}",
            call.status == 200 and "public" in cache_control and _max_age(cache_control) > 0,
            f"Cache-Control: {cache_control or '(none)'}",
        )

    def summary(self) -> None:
        own = self.api.call("GET", "/ebox", self.reader)
        self.expect(
            "summary of the own e-Box",
            own,
            200,
            why=f"numberOfMessages={(own.json() or {}).get('numberOfMessages')}",
        )
        other = self.api.call("GET", "/ebox", self.reader, params={"eboxIdValue": self.instance.institution})
        self.expect("summary of another e-Box (summaryallebox; extension parameter eboxIdValue)", other, 200)
        self.expect(
            "summary of an unregistered enterprise -> 404",
            self.api.call("GET", "/ebox", self.reader, params={"eboxIdValue": UNREGISTERED_CBE}),
            404,
        )
        self.expect(
            "summary with a malformed eboxIdValue -> 400",
            self.api.call("GET", "/ebox", self.reader, params={"eboxIdValue": "12AB"}),
            400,
        )

    def publication(self) -> None:
        instance = self.instance
        png = tiny_png(3, 1)
        attachments = [
            {
                "httpPartName": "upfile1",
                "mainContent": True,
                "attachmentTitle": {"fr": "Avis", "nl": "Bericht"},
                "digest": {"digestMethod": "sha_256", "digestValue": b64url_sha256(PDF)},
            },
            {
                "httpPartName": "upfile2",
                "mainContent": False,
                "digest": {"digestMethod": "sha_256", "digestValue": b64url_sha256(png)},
            },
        ]
        description = self.description(
            instance.demo_enterprise,
            {"fr": HELENE, "nl": "Herinnering: driemaandelijkse bijdrage van Hélène"},
            attachments,
            forTheAttentionOf={"id": "85073003328", "type": "person", "name": "Hélène Dupont"},
            businessDataList=[{"key": "trimestre", "values": [{"fr": "2026/3"}]}],
            paymentData={
                "amount": 1842.17,
                "vatAmount": 0,
                "currency": "EUR",
                "dueDate": "2027-01-31T00:00:00+01:00",
                "iban": "BE68539007547034",
                "bic": "BPOTBEB1",
                "reference": {"structured": "+++090/9337/55493+++"},
            },
        )
        files = [("upfile2", "annexe.png", png, "image/png"), ("upfile1", "avis.pdf", PDF, "application/pdf")]
        first = self.publish(self.sender, description, files, json_last=True)
        self.expect(
            "publication with the parts in reverse order (JSON part last) and a PNG annex",
            first,
            201,
            condition="code" not in (first.json() or {}),
            why="the recipient consulted its e-Box: no NO_DIGITAL_USER",
        )
        self.ids["main"] = (first.json() or {}).get("messageId", UNKNOWN_ID)
        self.files = {"upfile1": PDF, "upfile2": png}

        body_message = self.description(
            instance.demo_enterprise,
            {"fr": "Votre attestation est disponible"},
            [{"httpPartName": "upfile1", "mainContent": False}],
            bodyMainContent=True,
            bodyContent={"fr": "Votre attestation de régularité est jointe."},
        )
        second = self.publish(self.sender, body_message, [("upfile1", "note.txt", NOTE, "text/plain")])
        self.expect("publication whose main content is the body", second, 201)
        self.ids["body"] = (second.json() or {}).get("messageId", UNKNOWN_ID)

        description, files = self.pdf_message(instance.newcomer)
        newcomer = self.publish(self.sender, description, files)
        self.expect(
            "publication to a never-consulted e-Box -> NO_DIGITAL_USER", newcomer, 201, code="NO_DIGITAL_USER"
        )

        description, files = self.pdf_message(instance.demo_enterprise)
        description["attachments"][0]["digest"]["digestValue"] = b64url_sha256(b"other content")
        self.expect(
            "digest mismatch -> 400 DIGEST_DO_NOT_MATCH",
            self.publish(self.sender, description, files),
            400,
            code="DIGEST_DO_NOT_MATCH",
        )
        description, files = self.pdf_message(
            instance.demo_enterprise, senderOrganizationId=instance.other_institution
        )
        self.expect(
            "senderOrganizationId of another organization -> 400 INVALID_SENDER",
            self.publish(self.sender, description, files),
            400,
            code="INVALID_SENDER",
        )
        description, files = self.pdf_message(
            instance.demo_enterprise, bodyMainContent=True, bodyContent={"fr": "Deux contenus principaux"}
        )
        self.expect(
            "two main contents -> 400 INVALID_INPUT",
            self.publish(self.sender, description, files),
            400,
            code="INVALID_INPUT",
        )
        description, files = self.pdf_message(UNREGISTERED_CBE)
        self.expect(
            "unknown recipient -> 400 INVALID_INPUT",
            self.publish(self.sender, description, files),
            400,
            code="INVALID_INPUT",
        )
        self.expect(
            "messageToPublish that is not JSON -> 400 INVALID_INPUT",
            self.publish(self.sender, "{not json", []),
            400,
            code="INVALID_INPUT",
        )

        reply, files = self.pdf_message(
            instance.institution,
            originalMessageId=self.ids["main"],
            messageTypeId=instance.reply_type,
            subject={"fr": "Réponse à votre rappel"},
        )
        reply["senderOrganizationId"] = instance.demo_enterprise
        del reply["senderApplicationId"]
        answer = self.publish(self.reader, reply, files)
        self.expect("reply of the demo enterprise to ONSS (originalMessageId)", answer, 201)

    def consultation(self) -> None:
        main, body_id = self.ids["main"], self.ids["body"]
        listing = self.messages(pageSize=100)
        body = listing.json() or {}
        self.expect(
            "list of messages",
            listing,
            200,
            condition={main, body_id} <= set(_ids(listing)),
            why=f"totalItems={body.get('totalItems')}, both publications listed",
        )
        subject = next(
            (item["subject"] for item in body.get("items", []) if item.get("messageId") == main), {}
        )
        self.report.check(
            "TranslatedString outputs carry nl, fr and de",
            {"nl", "fr", "de"} <= set(subject),
            f"subject languages: {', '.join(sorted(subject))}",
        )
        filtered = self.messages(
            messageTypeId="ATTEST",
            senderOrganizationId=self.instance.institution,
            senderApplicationId="DMFA",
            readStatus="false",
            visible="true",
            registeredMail="false",
            receivedAfter="2020-01-01",
            expiredAfter="2020-01-01",
            pageSize=100,
        )
        self.expect("every filter at once (AND)", filtered, 200, condition=main in _ids(filtered))
        for text, found in SEARCHES:
            result = self.messages(q=text, qlang="fr", pageSize=100)
            self.expect(
                f"q={text!r} qlang=fr {'finds' if found else 'does not find'} {HELENE!r}",
                result,
                200,
                condition=(main in _ids(result)) is found,
            )
        self.expect("q without qlang -> 400", self.messages(q="helene"), 400)
        future = self.messages(receivedAfter="2060-01-01")
        self.expect(
            "receivedAfter=2060-01-01 -> 200, items [] and totalItems 0",
            future,
            200,
            condition=(future.json() or {}).get("items") == []
            and (future.json() or {}).get("totalItems") == 0,
        )
        for params in (
            {"receivedAfter": "2017-13-45"},
            {"pageSize": 0},
            {"pageSize": 101},
            {"page": 0},
            {"readStatus": "maybe"},
        ):
            self.expect(f"malformed criterion {params} -> 400", self.messages(**params), 400)
        paged = self.messages(page=2, pageSize=1)
        self.expect(
            "page=2&pageSize=1 -> one item",
            paged,
            200,
            condition=len(_ids(paged)) == 1 and (paged.json() or {}).get("totalItems", 0) >= 2,
        )

        one = self.api.call("GET", "/ebox/messages/{messageId}", self.reader, path={"messageId": main})
        self.expect(
            "get a message",
            one,
            200,
            condition=(one.json() or {}).get("readStatus") is False,
            why="not read yet",
        )
        self.expect(
            "unknown messageId -> 404",
            self.api.call("GET", "/ebox/messages/{messageId}", self.reader, path={"messageId": UNKNOWN_ID}),
            404,
        )
        attachments = self.api.call(
            "GET", "/ebox/messages/{messageId}/attachments", self.reader, path={"messageId": main}
        )
        items = (attachments.json() or {}).get("items") or []
        digests = {item.get("fileName"): item.get("digest", {}).get("digestValue") for item in items}
        self.expect(
            "attachments of a message, with the published digests",
            attachments,
            200,
            condition=digests
            == {
                "avis.pdf": b64url_sha256(self.files["upfile1"]),
                "annexe.png": b64url_sha256(self.files["upfile2"]),
            },
        )
        self.attachments = {item.get("fileName"): item.get("attachmentId") for item in items}
        self.expect(
            "attachments of an unknown message -> 404",
            self.api.call(
                "GET", "/ebox/messages/{messageId}/attachments", self.reader, path={"messageId": UNKNOWN_ID}
            ),
            404,
        )
        template = "/ebox/messages/{messageId}/attachments/{attachmentId}"
        annex = self.api.call(
            "GET",
            template,
            self.reader,
            path={"messageId": main, "attachmentId": self.attachments.get("annexe.png")},
        )
        self.expect(
            "one attachment's metadata (image/png annex)",
            annex,
            200,
            condition=(annex.json() or {}).get("mediaType") == "image/png",
        )
        self.expect(
            "unknown attachmentId -> 404",
            self.api.call("GET", template, self.reader, path={"messageId": main, "attachmentId": UNKNOWN_ID}),
            404,
        )
        payment = self.api.call(
            "GET", "/ebox/messages/{messageId}/paymentData", self.reader, path={"messageId": main}
        )
        self.expect(
            "payment data", payment, 200, condition=(payment.json() or {}).get("iban") == "BE68539007547034"
        )
        self.expect(
            "payment data of a message without -> 404",
            self.api.call(
                "GET", "/ebox/messages/{messageId}/paymentData", self.reader, path={"messageId": body_id}
            ),
            404,
        )
        self.expect(
            "body of a message without body -> 404",
            self.api.call("GET", "/ebox/messages/{messageId}/body", self.reader, path={"messageId": main}),
            404,
        )

    def reading(self) -> None:
        main, body_id = self.ids["main"], self.ids["body"]
        template = "/ebox/messages/{messageId}/attachments/{attachmentId}/content"
        for file_name, part, media_type in (
            ("annexe.png", "upfile2", "image/png"),
            ("avis.pdf", "upfile1", "application/pdf"),
        ):
            content = self.api.call(
                "GET",
                template,
                self.reader,
                path={"messageId": main, "attachmentId": self.attachments.get(file_name)},
            )
            self.expect(
                f"content of {file_name}: the published bytes, {media_type}",
                content,
                200,
                condition=content.response.content == self.files[part]
                and content.response.headers.get("Content-Type") == media_type,
            )
            read = self.message(main).get("readStatus")
            expected = file_name == "avis.pdf"
            self.report.check(
                f"after reading {'the main content' if expected else 'an annex'}: readStatus={expected}",
                read is expected,
                f"readStatus={read}",
            )
        self.expect(
            "content of an unknown attachment -> 404",
            self.api.call("GET", template, self.reader, path={"messageId": main, "attachmentId": UNKNOWN_ID}),
            404,
        )
        self.report.check(
            "body message unread before its body is read", self.message(body_id).get("readStatus") is False
        )
        body = self.api.call(
            "GET", "/ebox/messages/{messageId}/body", self.reader, path={"messageId": body_id}
        )
        self.expect(
            "body (main content), filled in nl, fr and de",
            body,
            200,
            condition={"nl", "fr", "de"} <= set(body.json() or {}),
        )
        read = self.message(body_id).get("readStatus")
        self.report.check("after reading the main body: readStatus=True", read is True, f"readStatus={read}")

    def visibility(self) -> None:
        body_id = self.ids["body"]
        hide = self.api.call(
            "PATCH",
            "/ebox/messages",
            self.reader,
            content_type="application/merge-patch+json",
            json_body={"items": [{"messageId": body_id, "visible": False}], "totalItems": 1},
        )
        self.expect("hide a message (application/merge-patch+json)", hide, 200)
        hidden = self.messages(visible="false", pageSize=100)
        self.expect("visible=false lists the hidden message", hidden, 200, condition=body_id in _ids(hidden))
        summary = (self.api.call("GET", "/ebox", self.reader).json() or {}).get("numberOfMessages")
        total = (self.messages().json() or {}).get("totalItems")
        self.report.check(
            "/ebox counters include the hidden message",
            summary == total and summary is not None,
            f"numberOfMessages={summary}, messages listed={total}",
        )
        self.expect(
            "PATCH an unknown message -> 404",
            self.api.call(
                "PATCH",
                "/ebox/messages",
                self.reader,
                content_type="application/merge-patch+json",
                json_body={"items": [{"messageId": UNKNOWN_ID, "visible": False}]},
            ),
            404,
        )
        self.expect(
            "PATCH a malformed body -> 400",
            self.api.call(
                "PATCH",
                "/ebox/messages",
                self.reader,
                content_type="application/merge-patch+json",
                json_body={"items": [{"messageId": body_id, "visible": "no"}]},
            ),
            400,
        )
        show = self.api.call(
            "PATCH",
            "/ebox/messages",
            self.reader,
            content_type="application/merge-patch+json",
            json_body={"items": [{"messageId": body_id, "visible": True}]},
        )
        self.expect("show it again", show, 200, condition=self.message(body_id).get("visible") is True)

    def broadcast_and_status(self) -> None:
        instance, main = self.instance, self.ids["main"]
        recipients = [
            {"eboxType": "enterprise", "eboxIdValue": cbe}
            for cbe in (instance.newcomer, instance.other_institution, "0000000000")
        ]
        link = self.api.call(
            "POST", "/linkEboxMessage", self.sender, json_body={"messageId": main, "recipients": recipients}
        )
        answer = link.json() or {}
        self.expect(
            "broadcast to two e-Boxes and one bad CBE number",
            link,
            201,
            condition=answer.get("nbSuccessLinks") == 2
            and [case.get("eboxIdValue") for case in answer.get("errorCases", [])] == ["0000000000"],
            why=f"nbSuccessLinks={answer.get('nbSuccessLinks')}",
        )
        self.expect(
            "broadcast of an unknown message -> 404",
            self.api.call(
                "POST",
                "/linkEboxMessage",
                self.sender,
                json_body={"messageId": UNKNOWN_ID, "recipients": recipients},
            ),
            404,
        )
        self.expect(
            "broadcast with a malformed body -> 400",
            self.api.call("POST", "/linkEboxMessage", self.sender, json_body={"messageId": main}),
            400,
        )
        pairs = [
            {"messageId": main, "eboxId": {"eboxType": "enterprise", "eboxIdValue": cbe}}
            for cbe in (instance.demo_enterprise, instance.newcomer)
        ]
        status = self.api.call("POST", "/searchMessageStatus", self.sender, json_body=pairs)
        items = status.json() if isinstance(status.json(), list) else []
        read = {item.get("eboxId", {}).get("eboxIdValue"): item.get("readStatus") for item in items}
        self.expect(
            "status of the sender's publications",
            status,
            201,
            condition=read == {instance.demo_enterprise: True, instance.newcomer: False},
            why=f"readStatus per e-Box: {read}",
        )
        self.expect(
            "status of unknown messages -> 404",
            self.api.call(
                "POST",
                "/searchMessageStatus",
                self.sender,
                json_body=[{"messageId": UNKNOWN_ID, "eboxId": pairs[0]["eboxId"]}],
            ),
            404,
        )
        self.expect(
            "status request with a malformed body -> 400",
            self.api.call("POST", "/searchMessageStatus", self.sender, json_body={"messageId": main}),
            400,
        )
        self.expect(
            "status of another sender's publication -> 404 (own publications only)",
            self.api.call("POST", "/searchMessageStatus", self.reader, json_body=pairs[:1]),
            404,
        )


def run(server: Server, instance: Instance, contract: Contract, report: Report) -> Scenario:
    scenario = Scenario(server, instance, contract, report)
    scenario.run()
    return scenario
