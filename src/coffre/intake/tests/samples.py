"""Real sample files for the intake tests, written by the tests themselves (nothing downloaded).

Each builder returns bytes in the real format, small: a PDF (``coffre.demo.pdf``), PNG/GIF/JPEG
headers with given pixel dimensions, Office Open XML and OpenDocument files (ZIPs with the parts
their readers need), OLE2 compound files (.doc, .xls, .msi) from a minimal writer, programs (PE,
ELF), archives, ZIP bombs, and mails (plain, with attachments, forwarded).
"""

import io
import os
import struct
import zipfile
import zlib
from email.message import EmailMessage
from email.policy import SMTP

from coffre.demo.pdf import simple_pdf


def pdf(text: str = "Facture 2024-0042") -> bytes:
    return simple_pdf([text])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 64, height: int = 32, *, noise: bool = False) -> bytes:
    """A valid RGB PNG; ``noise`` makes it incompressible (its size then grows with its pixels)."""
    row = 1 + 3 * width
    raw = b"".join(
        b"\x00" + (os.urandom(row - 1) if noise else bytes([y % 256]) * (row - 1)) for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def gif(width: int = 16, height: int = 16) -> bytes:
    return (
        b"GIF89a"
        + struct.pack("<HH", width, height)
        + b"\x80\x00\x00"
        + b"\x00\x00\x00\xff\xff\xff"
        + b"\x2c\x00\x00\x00\x00"
        + struct.pack("<HH", width, height)
        + b"\x00\x02\x02\x44\x01\x00\x3b"
    )


def jpeg(width: int = 640, height: int = 480, padding: int = 0) -> bytes:
    """A baseline JPEG's header (SOI, JFIF, SOF0 with the dimensions), then ``padding`` bytes."""
    jfif = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = (
        b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    )
    return b"\xff\xd8" + jfif + sof + os.urandom(padding) + b"\xff\xd9"


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/officeDocument" Target="%s"/></Relationships>'
)


def _content_types(main: bytes, macro: bool = False) -> bytes:
    kind = b"application/vnd.ms-word.document.macroEnabled.main+xml" if macro else main
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
        b'2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/word/document.xml" ContentType="' + kind + b'"/></Types>'
    )


def docx(text: str = "Contrat de bail", *, macro: bool = False) -> bytes:
    entries = {
        "[Content_Types].xml": _content_types(
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", macro
        ),
        "_rels/.rels": _RELS % b"word/document.xml",
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            f'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body>'
            "</w:document>"
        ).encode(),
    }
    if macro:
        entries["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + b"\x00" * 60
    return _zip(entries)


def xlsx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/content-types"/>',
            "_rels/.rels": _RELS % b"xl/workbook.xml",
            "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheets/></workbook>',
        }
    )


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.text")
        archive.writestr(
            "content.xml",
            b'<?xml version="1.0"?><office:document-content xmlns:office='
            b'"urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>',
            zipfile.ZIP_DEFLATED,
        )
        archive.writestr("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest/>', zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def plain_zip(entries: dict[str, bytes] | None = None) -> bytes:
    return _zip(entries or {"facture-1.pdf": pdf("Facture 1"), "facture-2.pdf": pdf("Facture 2")})


def zip_bomb(megabytes: int = 50) -> bytes:
    """One entry of ``megabytes`` MB of zeros: about a thousand times smaller once deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.pdf", "w", force_zip64=True) as entry:
            block = b"\x00" * (1024 * 1024)
            for _ in range(megabytes):
                entry.write(block)
    return buffer.getvalue()


def many_entries_zip(count: int) -> bytes:
    return _zip({f"f{number}.txt": b"" for number in range(count)}, zipfile.ZIP_STORED)


def encrypted_zip() -> bytes:
    """A ZIP whose entry is flagged as encrypted (general purpose bit 0), as ZipCrypto writes it."""
    data = bytearray(plain_zip({"secret.pdf": pdf("secret")}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        flags = struct.unpack_from("<H", data, position + offset)[0]
        struct.pack_into("<H", data, position + offset, flags | 0x1)
    return bytes(data)


def pe() -> bytes:
    """A Windows program's first bytes: the MZ header pointing at a PE signature."""
    header = bytearray(b"MZ" + b"\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64))
    return bytes(header) + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 1) + b"\x00" * 200


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 120


# --- OLE2 compound files ---------------------------------------------------------------------------

_END, _FREE, _FATSECT = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
MSI_CLSID = bytes.fromhex("84100C0000000000C000000000000046")


def ole(streams: dict[str, bytes], root_clsid: bytes = b"\x00" * 16) -> bytes:
    """A version 3 compound file (512-byte sectors) holding ``streams`` ("Storage/Stream" paths).

    Streams are padded to 4096 bytes so that all live in regular sectors (no mini stream);
    siblings are chained to the right (a valid, if unbalanced, red-black tree for readers).
    """
    streams = {path: data.ljust(4096, b"\x00") for path, data in streams.items()}
    entries = [{"name": "Root Entry", "type": 5, "children": [], "clsid": root_clsid}]
    index = {"": 0}
    for path in streams:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            key = "/".join(parts[:depth])
            if key not in index:
                index[key] = len(entries)
                entries.append(
                    {
                        "name": parts[depth - 1],
                        "type": 2 if key in streams else 1,
                        "children": [],
                        "clsid": b"\x00" * 16,
                    }
                )
                entries[index["/".join(parts[: depth - 1])]]["children"].append(index[key])
    directory_sectors = -(-len(entries) // 4)
    sector = 1 + directory_sectors
    fat = [_FATSECT] + [i + 2 for i in range(directory_sectors - 1)] + [_END]
    data = b""
    for path, content in streams.items():
        count = len(content) // 512
        entries[index[path]].update(start=sector, size=len(content))
        fat += [sector + i + 1 for i in range(count - 1)] + [_END]
        sector += count
        data += content
    if len(fat) > 128:
        raise ValueError("sample OLE files hold at most 128 sectors")
    fat += [_FREE] * (128 - len(fat))
    directory = b""
    for entry in entries:
        children = entry["children"]
        for position, child in enumerate(children):
            entries[child]["right"] = children[position + 1] if position + 1 < len(children) else _FREE
        name = entry["name"].encode("utf-16-le") + b"\x00\x00"
        directory += (
            name.ljust(64, b"\x00")
            + struct.pack("<HBB", len(name), entry["type"], 1)
            + struct.pack("<III", _FREE, entry.get("right", _FREE), children[0] if children else _FREE)
            + entry["clsid"]
            + b"\x00" * 20
            + struct.pack("<IQ", entry.get("start", _END if entry["type"] == 5 else 0), entry.get("size", 0))
        )
    directory = directory.ljust(directory_sectors * 512, b"\x00")
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    return header + struct.pack("<128I", *fat) + directory + data


def doc(*, macros: bool = False) -> bytes:
    streams = {"WordDocument": b"\xec\xa5" + b"\x00" * 100, "1Table": b"\x00" * 100}
    if macros:
        streams["Macros/VBA/dir"] = b"\x01" * 100
    return ole(streams)


def xls() -> bytes:
    return ole({"Workbook": b"\x09\x08" + b"\x00" * 100})


def msi() -> bytes:
    return ole({"\u4840\u3b3f\u43f2\u4438\u45b1": b"\x00" * 100}, root_clsid=MSI_CLSID)


# --- mails -----------------------------------------------------------------------------------------


def mail(
    subject: str = "Facture",
    body: str | None = "Bonjour, voici la facture.",
    *,
    sender: str = "Alice Martin <alice@fidu-lebrun.be>",
    attachments=(),
    html: str | None = None,
    message_id: str = "<sample-1@fidu-lebrun.be>",
) -> EmailMessage:
    """A mail with ``attachments``: (content, maintype, subtype, filename) tuples."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = "documents-abc123@intake.coffre.example"
    message["Subject"] = subject
    message["Date"] = "Tue, 05 Nov 2024 10:00:00 +0100"
    message["Message-ID"] = message_id
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for content, maintype, subtype, filename in attachments:
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def forward(
    inner: EmailMessage, *, subject: str = "Fwd: Facture", as_eml_file: bool = False, body: str = "Pour info."
) -> EmailMessage:
    """``inner`` forwarded as an attachment: a message/rfc822 part, or an .eml file."""
    outer = mail(subject, body, message_id="<forward-1@fidu-lebrun.be>")
    if as_eml_file:
        outer.add_attachment(
            inner.as_bytes(), maintype="application", subtype="octet-stream", filename="original.eml"
        )
    else:
        outer.add_attachment(inner)
    return outer
