"""The consultation data set: 1M messages over 10k e-Boxes, plus one e-Box of 100k messages.

Generated once into var/bench/dataset-<key>/ (``key`` names ``VERSION`` and the sizes) and reused
by later runs; change ``VERSION`` when what is generated changes. A run that stops half-way
leaves a ``.partial`` directory that the next run starts again.

The schema comes from the project's migrations; reference data and webservice clients go
through the services; the bulk (enterprises, e-Boxes, messages, attachments, blobs, payment
data) is written with sqlite3 directly, indexes dropped during the load and rebuilt after, in
receipt order as a live registry would have written it. The rows are what publication writes:
subjects in fr and/or nl by the enterprise's language, ``search_*`` computed by
``coffre.mailbox.services.message_search_texts``, business data and forTheAttentionOf on some
messages, one PDF attachment per message with its own blob (the blob files themselves are not
written: listing and searching never read them), payment data on payment notices, receipt dates
spread over two years, expiry from the message type's validity, read and visible flags that
depend on age. Everything is drawn from a seeded generator: the same key gives the same data.
"""

import datetime as dt
import json
import random
import sqlite3
import time
import uuid
from pathlib import Path

from common import log

VERSION = "2"  # 2: generated on the schema with accounts.User (version 1 data sets no longer migrate)
SEED = 20261123

# (organization CBE seed, short names, applications, message types)
# message type: (id, name fr, name nl, validity (number, unit), subject fr, subject nl, payment?)
INSTITUTIONS = [
    (
        4067980,
        {"fr": "ONSS", "nl": "RSZ", "de": "LSS"},
        {"fr": "Office national de sécurité sociale", "nl": "Rijksdienst voor Sociale Zekerheid"},
        ["DMFA", "DIMONA"],
        [
            (
                "ONSS_COTISATIONS",
                "Avis de cotisations",
                "Bijdragebericht",
                (6, "month"),
                "Avis de paiement des cotisations - {q}e trimestre {y}",
                "Betalingsbericht bijdragen - {q}de kwartaal {y}",
                True,
            ),
            (
                "ONSS_ATTEST",
                "Attestation",
                "Attest",
                (1, "year"),
                "Attestation de régularité {y}",
                "Attest van regelmatigheid {y}",
                False,
            ),
            (
                "ONSS_RAPPEL",
                "Rappel",
                "Herinnering",
                (30, "day"),
                "Rappel : déclaration DmfA {q}/{y} manquante",
                "Herinnering: ontbrekende DmfA-aangifte {q}/{y}",
                False,
            ),
        ],
    ),
    (
        3083571,
        {"fr": "SPF Finances", "nl": "FOD Financiën", "de": "FÖD Finanzen"},
        {"fr": "Service public fédéral Finances", "nl": "Federale Overheidsdienst Financiën"},
        ["MYMINFIN", "INTERVAT", "BIZTAX"],
        [
            (
                "AER",
                "Avertissement-extrait de rôle",
                "Aanslagbiljet",
                (2, "year"),
                "Avertissement-extrait de rôle - exercice d'imposition {y}",
                "Aanslagbiljet - aanslagjaar {y}",
                True,
            ),
            (
                "DEMANDE_RENSEIGNEMENTS",
                "Demande de renseignements",
                "Vraag om inlichtingen",
                (1, "year"),
                "Demande de renseignements n° {n}",
                "Vraag om inlichtingen nr. {n}",
                False,
            ),
            (
                "TVA_RAPPEL",
                "Rappel TVA",
                "Herinnering btw",
                (3, "month"),
                "Rappel TVA : déclaration {m}/{y}",
                "Herinnering btw-aangifte {m}/{y}",
                False,
            ),
            (
                "TVA_REMBOURSEMENT",
                "Remboursement TVA",
                "Terugbetaling btw",
                (1, "year"),
                "Remboursement TVA - période {m}/{y}",
                "Terugbetaling btw - periode {m}/{y}",
                False,
            ),
        ],
    ),
    (
        4033200,
        {"fr": "INASTI", "nl": "RSVZ"},
        {
            "fr": "Institut national d'assurances sociales pour travailleurs indépendants",
            "nl": "Rijksinstituut voor de Sociale Verzekeringen der Zelfstandigen",
        },
        ["STATUT"],
        [
            (
                "INDEP_COTISATIONS",
                "Cotisations d'indépendant",
                "Bijdragen zelfstandige",
                (6, "month"),
                "Cotisations sociales d'indépendant - {q}e trimestre {y}",
                "Sociale bijdragen zelfstandige - {q}de kwartaal {y}",
                True,
            )
        ],
    ),
    (
        3166200,
        {"fr": "BCE", "nl": "KBO"},
        {"fr": "Banque-Carrefour des Entreprises", "nl": "Kruispuntbank van Ondernemingen"},
        ["KBO_PUBLIC"],
        [
            (
                "BCE_MODIFICATION",
                "Modification BCE",
                "Wijziging KBO",
                (1, "year"),
                "Modification de vos données à la BCE ({ref})",
                "Wijziging van uw gegevens in de KBO ({ref})",
                False,
            )
        ],
    ),
    (
        3167050,
        {"fr": "Vlaamse Belastingdienst", "nl": "Vlaamse Belastingdienst"},
        {"nl": "Vlaamse Belastingdienst"},
        ["VLABEL"],
        [
            (
                "PRECOMPTE",
                "Précompte immobilier",
                "Onroerende voorheffing",
                (1, "year"),
                "Précompte immobilier {y} - article {n}",
                "Onroerende voorheffing {y} - artikel {n}",
                True,
            ),
            (
                "CIRCULATION",
                "Taxe de circulation",
                "Verkeersbelasting",
                (6, "month"),
                "Taxe de circulation {y} - véhicule {plate}",
                "Verkeersbelasting {y} - voertuig {plate}",
                True,
            ),
        ],
    ),
    (
        2068720,
        {"fr": "ONEM", "nl": "RVA"},
        {"fr": "Office national de l'emploi", "nl": "Rijksdienst voor Arbeidsvoorziening"},
        ["CHOMAGE_TEMP"],
        [
            (
                "ONEM_DECISION",
                "Décision",
                "Beslissing",
                (1, "year"),
                "Décision relative à votre dossier {ref}",
                "Beslissing over uw dossier {ref}",
                False,
            )
        ],
    ),
    (
        3089460,
        {"fr": "SPF Emploi", "nl": "FOD WASO"},
        {
            "fr": "SPF Emploi, Travail et Concertation sociale",
            "nl": "FOD Werkgelegenheid, Arbeid en Sociaal Overleg",
        },
        ["INSPECTION"],
        [
            (
                "CONVOCATION",
                "Convocation",
                "Oproeping",
                (30, "day"),
                "Convocation à l'inspection sociale le {d}",
                "Oproeping sociale inspectie op {d}",
                False,
            ),
            (
                "INSPECTION_RAPPORT",
                "Rapport d'inspection",
                "Inspectieverslag",
                (2, "year"),
                "Rapport d'inspection - dossier {ref}",
                "Inspectieverslag - dossier {ref}",
                False,
            ),
        ],
    ),
]
# How often each message type is sent, same order as flattened above.
TYPE_WEIGHTS = [18, 6, 5, 8, 3, 9, 4, 7, 3, 5, 4, 3, 2, 2]
ATTENTION = [
    ("Service comptabilité", "Dienst boekhouding"),
    ("Ressources humaines", "Personeelsdienst"),
    ("Direction", "Directie"),
    ("Service juridique", "Juridische dienst"),
]
DAY = dt.timedelta(days=1)
UNIT_DAYS = {"day": 1, "month": 30.44, "year": 365.25}


def _cbe(seed: int) -> str:
    from coffre.core.cbe import make_cbe

    return make_cbe(seed)


def _reference_data() -> list[dict]:
    """Sender organizations, applications and message types through the services; the types to draw."""
    from coffre.audit.services import Actor
    from coffre.mailbox import reference
    from coffre.mailbox.models import MessageType, SenderApplication, SenderOrganization

    actor = Actor.cli("bench dataset")
    types = []
    for seed, short, long, applications, message_types in INSTITUTIONS:
        cbe = _cbe(seed)
        reference.set_sender_organization(cbe, actor, short_name=short, long_name=long)
        for application in applications:
            reference.set_sender_application(
                application, actor, name={"fr": application}, organizations=[cbe]
            )
        for type_id, name_fr, name_nl, (number, unit), subject_fr, subject_nl, payment in message_types:
            reference.set_message_type(
                type_id,
                actor,
                name={"fr": name_fr, "nl": name_nl},
                validity_number=number,
                validity_unit=unit,
                organizations=[cbe],
                applications=[applications[0]],
            )
            types.append(
                {
                    "type_pk": MessageType.objects.get(message_type_id=type_id).pk,
                    "organization_pk": SenderOrganization.objects.get(organization_id=cbe).pk,
                    "application_pk": SenderApplication.objects.get(application_id=applications[0]).pk,
                    "validity_days": number * UNIT_DAYS[unit],
                    "subject_fr": subject_fr,
                    "subject_nl": subject_nl,
                    "payment": payment,
                    "slug": type_id.lower().replace("_", "-"),
                    "client": f"coffre-bench-{seed}",
                }
            )
    return types


def _enterprises(count: int) -> list[tuple[int, int, str]]:
    """``count`` enterprises with their e-Boxes (bulk): (enterprise id, e-Box id, language)."""
    from coffre.accounts.models import Enterprise
    from coffre.mailbox.models import Ebox

    rng = random.Random(SEED)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    Enterprise.objects.bulk_create(
        [
            Enterprise(
                cbe=_cbe(6_000_000 + number),
                name=f"Entreprise {number:05d} SRL",
                language=rng.choices(["nl", "fr", "de"], [55, 40, 5])[0],
                created_at=now,
            )
            for number in range(count)
        ],
        batch_size=2000,
    )
    enterprises = list(Enterprise.objects.filter(cbe__gte=_cbe(6_000_000)).order_by("cbe"))
    Ebox.objects.bulk_create([Ebox(enterprise=item, created_at=now) for item in enterprises], batch_size=2000)
    boxes = dict(Ebox.objects.values_list("enterprise_id", "pk"))
    return [(item.pk, boxes[item.pk], item.language) for item in enterprises]


class _Rows:
    """Draws the rows of one message (and its blob, attachment, payment data)."""

    def __init__(self, types: list[dict], now: dt.datetime):
        from coffre.mailbox.services import message_search_texts

        self.search_texts = message_search_texts
        self.types = types
        self.now = now
        self.rng = random.Random(SEED + 1)

    def _subject(self, kind: dict, language: str, receipt: dt.datetime) -> dict:
        rng = self.rng
        values = {
            "q": (receipt.month - 1) // 3 + 1,
            "y": receipt.year,
            "m": f"{receipt.month:02d}",
            "n": rng.randrange(10**6, 10**7),
            "ref": f"{rng.choice('ABCDEFGH')}{rng.randrange(10**5, 10**6)}",
            "plate": f"1-{''.join(rng.choices('ABCDEFGHJKLMNPRSTVWXYZ', k=3))}-{rng.randrange(100, 1000)}",
            "d": (receipt + 14 * DAY).strftime("%d/%m/%Y"),
        }
        fr, nl = kind["subject_fr"].format(**values), kind["subject_nl"].format(**values)
        if rng.random() < 0.2:
            return {"fr": fr, "nl": nl}
        return {"nl": nl} if language == "nl" else {"fr": fr}

    def message(self, pk: int, ebox_id: int, scope_id: int, language: str, receipt: dt.datetime, kind: dict):
        rng = self.rng
        subject = self._subject(kind, language, receipt)
        business_data = []
        if rng.random() < 0.4:
            business_data.append(
                {"key": "reference", "values": [{"fr": f"REF-{receipt.year}-{rng.randrange(10**5, 10**6)}"}]}
            )
        if kind["payment"] and rng.random() < 0.5:
            business_data.append(
                {
                    "key": "montant",
                    "values": [{"fr": f"{rng.randrange(50, 20000)},{rng.randrange(100):02d} EUR"}],
                }
            )
        attention = None
        if rng.random() < 0.15:
            service = rng.choice(ATTENTION)
            attention = {
                "id": f"SRV{rng.randrange(100, 999)}",
                "name": service[1] if language == "nl" else service[0],
            }
        expiration = receipt + dt.timedelta(days=kind["validity_days"])
        age_days = (self.now - receipt).days
        read_chance = 0.92 if age_days > 60 else 0.7 if age_days > 15 else 0.35
        read_at = receipt + dt.timedelta(hours=rng.uniform(1, 24 * min(max(age_days, 1), 30)))
        read_at = str(read_at) if rng.random() < read_chance and read_at < self.now else None
        size = int(rng.lognormvariate(11.3, 0.8)) + 2000  # about 100 kB, a few MB at most
        texts = self.search_texts(subject, business_data, attention)
        body = (
            json.dumps({"fr": "Veuillez trouver ci-joint votre document."}) if rng.random() < 0.05 else None
        )
        naive_receipt = str(receipt)
        message = (
            pk,
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            json.dumps(subject),
            naive_receipt,
            str(expiration),
            read_at,
            int(rng.random() < 0.97),
            int(rng.random() < 0.02),
            (attention or {}).get("id", ""),
            "",
            (attention or {}).get("name", ""),
            "",
            body,
            0,
            json.dumps(business_data),
            int(rng.random() < 0.1),
            size,
            kind["client"],
            texts["search_fr"],
            texts["search_nl"],
            texts["search_de"],
            texts["search_en"],
            naive_receipt,
            ebox_id,
            kind["type_pk"],
            kind["application_pk"],
            kind["organization_pk"],
        )
        blob = (
            pk,
            "%064x" % rng.getrandbits(256),
            size,
            f"{receipt:%Y/%m/%d}/{rng.getrandbits(128):032x}",
            naive_receipt,
            scope_id,
        )
        attachment = (
            pk,
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            0,
            None,
            f"{kind['slug']}-{receipt:%Y%m%d}.pdf",
            "application/pdf",
            1,
            int(rng.random() < 0.05),
            pk,
            pk,
        )
        payment = None
        if kind["payment"] and rng.random() < 0.8:
            amount = rng.randrange(5000, 2_000_000) / 100
            payment = (
                pk,
                f"PAY-{pk}",
                f"{amount:.2f}",
                "0.00",
                "EUR",
                str(receipt + 30 * DAY),
                "BE63679200000108",
                "PCHQBEBB",
                json.dumps({"structured": f"+++090/{pk % 10000:04d}/55493+++"}),
                pk,
            )
        return message, blob, attachment, payment


MESSAGE_COLUMNS = [
    "id",
    "message_id",
    "subject",
    "receipt_date",
    "expiration_date",
    "read_at",
    "visible",
    "registered_mail",
    "for_attention_id",
    "for_attention_type",
    "for_attention_name",
    "original_message_id",
    "body",
    "body_main_content",
    "business_data",
    "reply_authorized",
    "attachments_size",
    "publisher_client_id",
    "search_fr",
    "search_nl",
    "search_de",
    "search_en",
    "created_at",
    "ebox_id",
    "message_type_id",
    "sender_application_id",
    "sender_organization_id",
]
TABLES = {
    "mailbox_message": MESSAGE_COLUMNS,
    "mailbox_blob": ["id", "sha256", "size", "storage_name", "created_at", "scope_id"],
    "mailbox_attachment": [
        "id",
        "attachment_id",
        "position",
        "title",
        "file_name",
        "media_type",
        "main_content",
        "signed",
        "blob_id",
        "message_id",
    ],
    "mailbox_paymentdata": [
        "id",
        "payment_data_id",
        "amount",
        "vat_amount",
        "currency",
        "due_date",
        "iban",
        "bic",
        "reference",
        "message_id",
    ],
}


def _insert_sql(db: sqlite3.Connection, table: str) -> str:
    columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    if sorted(columns) != sorted(TABLES[table]):
        raise SystemExit(
            f"bench dataset: the columns of {table} changed ({columns}); update bench/dataset.py "
            "and its VERSION"
        )
    names = ", ".join(f'"{name}"' for name in TABLES[table])
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(TABLES[table]))})"


def generate(database: Path, messages: int, eboxes: int, big: int, sample: int) -> dict:
    """Fill the migrated database at ``database``; returns what the consultation phase needs."""
    from django.db import connection

    started = time.monotonic()
    types = _reference_data()
    boxes = _enterprises(eboxes + 1)
    regular, big_box = boxes[:eboxes], boxes[eboxes]
    connection.close()
    log(f"dataset: {len(boxes)} enterprises and e-Boxes, {len(types)} message types")

    rng = random.Random(SEED + 2)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    span = 730 * 86400
    weights = [rng.lognormvariate(0, 1.0) for _ in regular]
    owners = rng.choices(range(len(regular)), weights=weights, k=messages) + [len(regular)] * big
    received = [now - dt.timedelta(seconds=rng.uniform(60, span)) for _ in owners]
    order = sorted(range(len(owners)), key=received.__getitem__)
    log(f"dataset: {len(owners)} receipt dates drawn ({time.monotonic() - started:.0f} s)")

    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN (%s)"
        % ", ".join(f"'{table}'" for table in TABLES)
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    statements = {table: _insert_sql(db, table) for table in TABLES}
    rows = _Rows(types, now)
    all_boxes = regular + [big_box]
    chunk: dict[str, list] = {table: [] for table in TABLES}

    def flush():
        db.execute("BEGIN")
        for table, values in chunk.items():
            db.executemany(statements[table], values)
            values.clear()
        db.execute("COMMIT")

    for pk, index in enumerate(order, start=1):
        enterprise_id, ebox_id, language = all_boxes[owners[index]]
        kind = rng.choices(types, weights=TYPE_WEIGHTS)[0]
        message, blob, attachment, payment = rows.message(
            pk, ebox_id, enterprise_id, language, received[index], kind
        )
        chunk["mailbox_message"].append(message)
        chunk["mailbox_blob"].append(blob)
        chunk["mailbox_attachment"].append(attachment)
        if payment:
            chunk["mailbox_paymentdata"].append(payment)
        if pk % 50_000 == 0:
            flush()
            log(f"dataset: {pk} messages ({time.monotonic() - started:.0f} s)")
    flush()
    log(f"dataset: rebuilding {len(indexes)} indexes ({time.monotonic() - started:.0f} s)")
    for _, sql in indexes:
        db.execute(sql)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()

    sample_rng = random.Random(SEED + 3)
    sampled = sample_rng.sample(regular, sample)
    clients = _clients([enterprise_id for enterprise_id, _, _ in sampled] + [big_box[0]])
    log(f"dataset: {len(clients)} webservice clients ({time.monotonic() - started:.0f} s)")
    return {
        "messages": messages,
        "eboxes": eboxes,
        "big": big,
        "seed": SEED,
        "clients": clients,  # client ids, the last one is the big e-Box's
        "big_client": clients[-1],
        "generated_s": time.monotonic() - started,
    }


def _clients(enterprise_ids: list[int]) -> list[str]:
    """A consumer webservice client for each enterprise (through the service, one certificate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from coffre.accounts.models import Enterprise
    from coffre.audit.services import Actor
    from coffre.oauth import scopes
    from coffre.oauth import services as oauth_services

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coffre bench consumer")])
    now = dt.datetime.now(dt.UTC)
    pem = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    cbes = dict(Enterprise.objects.filter(pk__in=enterprise_ids).values_list("pk", "cbe"))
    actor = Actor.cli("bench dataset")
    consumer_scopes = [scopes.MESSAGES_FULL, scopes.SUMMARY_OWN]
    return [
        oauth_services.create_client(cbes[pk], pem, consumer_scopes, "bench consumer", actor)[0].client_id
        for pk in enterprise_ids
    ]
