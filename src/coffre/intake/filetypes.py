"""What a file received by e-mail is, decided by its content: an accepted document type or a refusal.

``classify(content, filename, declared_type, limits)`` returns a ``Classification``: the accepted
``FileType`` (media type and extension), or a refusal with a stable ``code`` and one English
sentence. The declared media type and the file name are only hints: PDF, images, RTF, OLE2 (.doc,
.xls, .ppt) and ZIP-based formats (.docx, .xlsx, .pptx, .odt, .ods, .odp, plain .zip) are
recognised by their magic bytes and structure; text (.txt, .csv, XML e-invoices) by decoding.
The name and the declared type can only add refusals: a PDF named ``invoice.exe`` is refused.

Refused: programs and scripts (PE, ELF, Mach-O, Java, shortcuts, installers...; by content, name
and declared type), office documents with macros, password-protected documents and archives,
archive formats Coffre cannot inspect (rar, 7z, gz, tar...), ZIPs holding archives or programs,
archive bombs (entry count, total uncompressed size, compression ratio: read from the ZIP central
directory, nothing is extracted), HTML and SVG (they can hold scripts), and anything else.
The table of magic numbers is our own, small and exact on purpose (docs/intake-documents.md says
why not libmagic, ``filetype`` or ``puremagic``); what is inside ZIP and OLE2 files is read by
``coffre.intake.containers``.

This module never executes, renders or fetches anything, and never raises for what a file holds.
"""

import codecs
import re
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    media_type: str
    extension: str  # canonical, lowercase, without the dot
    other_extensions: tuple[str, ...] = ()

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.other_extensions)


PDF = FileType("application/pdf", "pdf")
JPEG = FileType("image/jpeg", "jpg", ("jpeg", "jpe", "jfif"))
PNG = FileType("image/png", "png")
GIF = FileType("image/gif", "gif")
TIFF = FileType("image/tiff", "tif", ("tiff",))
WEBP = FileType("image/webp", "webp")
HEIC = FileType("image/heic", "heic", ("heif",))
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
ODT = FileType("application/vnd.oasis.opendocument.text", "odt")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", "ods")
ODP = FileType("application/vnd.oasis.opendocument.presentation", "odp")
DOC = FileType("application/msword", "doc", ("dot",))
XLS = FileType("application/vnd.ms-excel", "xls", ("xlt",))
PPT = FileType("application/vnd.ms-powerpoint", "ppt", ("pps",))
RTF = FileType("application/rtf", "rtf")
CSV = FileType("text/csv", "csv", ("tsv",))
TXT = FileType("text/plain", "txt", ("text", "log"))
XML = FileType("application/xml", "xml")
ZIP = FileType("application/zip", "zip")

ACCEPTED = (
    PDF,
    JPEG,
    PNG,
    GIF,
    TIFF,
    WEBP,
    HEIC,
    DOCX,
    XLSX,
    PPTX,
    ODT,
    ODS,
    ODP,
    DOC,
    XLS,
    PPT,
    RTF,
    CSV,
    TXT,
    XML,
    ZIP,
)
IMAGES = (JPEG, PNG, GIF, TIFF, WEBP, HEIC)

# Refused by name, whatever the content: what Windows, macOS or a desktop would run or install.
EXECUTABLE_EXTENSIONS = frozenset(
    """
    exe com scr pif cpl dll sys drv ocx msi msp mst msix msixbundle appx appxbundle appinstaller
    application appref-ms gadget jar jnlp class apk xapk aab ipa app dmg pkg mpkg deb rpm snap
    flatpak run bin elf so dylib lnk url scf inf reg hta chm msc settingcontent-ms library-ms
    search-ms iqy slk xll xla xlam ppa ppam wll vsto cab iso img vhd vhdx
""".split()
)
SCRIPT_EXTENSIONS = frozenset(
    """
    bat cmd btm js jse mjs cjs vbs vbe vb wsf wsh wsc sct ps1 ps1xml psc1 psd1 psm1 sh bash zsh csh
    ksh fish command tool py pyw pyc pyo pl pm rb php phtml lua tcl applescript scpt workflow
    action ahk au3 kix hta
""".split()
)
MACRO_EXTENSIONS = frozenset("docm dotm xlsm xltm xlsb pptm potm ppsm sldm".split())
ARCHIVE_EXTENSIONS = frozenset(
    """
    zip zipx rar 7z gz tgz gzip bz2 tbz tbz2 xz txz lz lzma tlz zst tzst tar cab arj lzh lha ace
    z sit sitx cpio ar war ear
""".split()
)
ACTIVE_EXTENSIONS = frozenset("html htm xhtml shtml mht mhtml svg svgz xht".split())
# Media types that say "program" or "script", refused whatever the content looks like.
EXECUTABLE_TYPES = frozenset(
    """
    application/x-msdownload application/x-msdos-program application/x-ms-installer application/x-msi
    application/x-ms-shortcut application/vnd.microsoft.portable-executable application/x-dosexec
    application/x-executable application/x-elf application/x-mach-binary application/x-sharedlib
    application/java-archive application/x-java-archive application/x-java-jnlp-file
    application/vnd.android.package-archive application/x-apple-diskimage application/x-sh
    application/x-shellscript text/x-shellscript application/x-csh application/javascript
    application/x-javascript text/javascript application/ecmascript text/ecmascript text/vbscript
    application/x-vbscript text/x-python application/x-python-code text/x-perl application/x-perl
    application/x-php application/x-powershell application/hta application/x-bat application/x-msdos-batch
""".split()
)

DOCUMENT_EXTENSIONS = frozenset(ext for file_type in ACCEPTED for ext in file_type.extensions)
# Every extension this table knows: a name whose extension is one of them but not of the type
# the content is gets the right extension instead (``scan.pdf`` holding a PNG -> ``scan.png``).
KNOWN_EXTENSIONS = frozenset(
    {ext for file_type in ACCEPTED for ext in file_type.extensions}
    | EXECUTABLE_EXTENSIONS
    | SCRIPT_EXTENSIONS
    | MACRO_EXTENSIONS
    | ARCHIVE_EXTENSIONS
    | ACTIVE_EXTENSIONS
    | {"eml", "msg", "json", "ics", "vcf", "bmp", "avif", "mp3", "mp4", "mov"}
)

_EXECUTABLE_MAGIC = (
    (b"MZ", "a Windows program (PE)"),
    (b"\x7fELF", "a Linux program (ELF)"),
    (b"\xfe\xed\xfa\xce", "a macOS program (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "a macOS program (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "a macOS program (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "a macOS program (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "a Java class or macOS universal program"),
    (b"dex\n", "an Android program (DEX)"),
    (b"\x00asm", "a WebAssembly module"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "a Windows shortcut (.lnk)"),
    (b"ITSF", "a compiled HTML help file (.chm)"),
)
_ARCHIVE_MAGIC = (
    (b"Rar!\x1a\x07", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"\x1f\x8b", "gzip"),
    (b"\x1f\x9d", "compress (.Z)"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "Zstandard"),
    (b"MSCF", "Windows cabinet"),
    (b"LZIP", "lzip"),
    (b"\x60\xea", "ARJ"),
    (b"070707", "cpio"),
    (b"070701", "cpio"),
    (b"!<arch>\n", "ar"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_PDF_MAGIC_WITHIN = 1024  # PDF readers accept the header anywhere in the first kilobyte
_TEXT_CONTROL_SHARE = 0.01  # more control characters than this and it is not text


@dataclass(frozen=True)
class Classification:
    """An accepted type (``file_type``), or a refusal (``code`` and ``reason``)."""

    file_type: FileType | None
    code: str = ""
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.file_type is not None


def refuse(code: str, reason: str) -> Classification:
    return Classification(None, code, reason)


def extension_of(filename: str | None) -> str:
    name = (filename or "").strip().rstrip(". ").lower()
    stem, dot, ext = name.rpartition(".")
    return ext if dot and stem.strip(". ") else ""


def name_refusal(filename: str | None, declared_type: str) -> Classification | None:
    """A refusal from the name or declared type alone, or None."""
    ext = extension_of(filename)
    if ext in EXECUTABLE_EXTENSIONS:
        return refuse("executable", f"the name ends in .{ext}: programs and installers are refused")
    if ext in SCRIPT_EXTENSIONS:
        return refuse("script", f"the name ends in .{ext}: scripts are refused")
    if ext in MACRO_EXTENSIONS:
        return refuse("macro", f"the name ends in .{ext}: office documents with macros are refused")
    if declared_type in EXECUTABLE_TYPES:
        return refuse("executable", f"it is declared as {declared_type}: programs and scripts are refused")
    return None


def executable_kind(content: bytes) -> str | None:
    """What program ``content`` is, from its first bytes (None: not a known program)."""
    for magic, kind in _EXECUTABLE_MAGIC:
        if content.startswith(magic):
            return kind
    if content.startswith(b"#!"):
        return "a script (#!)"
    return None


def archive_kind(content: bytes) -> str | None:
    """The archive format of ``content`` other than ZIP (None: not one of them)."""
    for magic, kind in _ARCHIVE_MAGIC:
        if content.startswith(magic):
            return kind
    if content[257:262] == b"ustar":
        return "tar"
    if content[2:5] == b"-lh" and content[6:7] == b"-":
        return "LHA"
    if content[0x8001:0x8006] == b"CD001":
        return "ISO disk image"
    if content.startswith(b"koly") or content[-512:-508] == b"koly":
        return "Apple disk image"
    return None


def is_zip(content: bytes) -> bool:
    return content.startswith(_ZIP_MAGIC)


def classify(content: bytes, filename: str | None, declared_type: str, limits) -> Classification:
    """The type of a received file, or why it is refused (``limits``: a ``mime.Limits``)."""
    declared_type = (declared_type or "").lower()
    refusal = name_refusal(filename, declared_type)
    if refusal:
        return refusal
    kind = executable_kind(content)
    if kind:
        return refuse(
            "script" if kind.startswith("a script") else "executable",
            f"its content is {kind}: programs and scripts are refused",
        )
    if is_pdf(content):
        return Classification(PDF)
    image = image_type(content)
    if image:
        return Classification(image)
    if content.startswith(b"{\\rtf"):
        return Classification(RTF)
    if content.startswith(_OLE_MAGIC) or is_zip(content):
        from coffre.intake import containers  # it reads the table of this module

        if is_zip(content):
            return containers.classify_zip(content, limits)
        return containers.classify_ole(content)
    kind = archive_kind(content)
    if kind:
        return refuse(
            "archive-format",
            f"it is a {kind} archive, which Coffre does not open: send the files themselves or a ZIP",
        )
    return _classify_text(content, filename, declared_type)


def is_pdf(content: bytes) -> bool:
    return b"%PDF-" in content[:_PDF_MAGIC_WITHIN]


def image_type(content: bytes) -> FileType | None:
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if content.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return WEBP
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        box_end = min(int.from_bytes(content[:4], "big"), 256)
        if b"avif" not in content[16:box_end]:  # an AVIF image may carry the generic brand mif1
            return HEIC
    return None


def image_size(content: bytes, file_type: FileType) -> tuple[int, int] | None:
    """(width, height) in pixels of a PNG, GIF, JPEG or WebP image; None when not readable."""
    try:
        if file_type is PNG and content[12:16] == b"IHDR":
            return struct.unpack(">II", content[16:24])
        if file_type is GIF:
            return struct.unpack("<HH", content[6:10])
        if file_type is WEBP:
            return _webp_size(content)
        if file_type is JPEG:
            return _jpeg_size(content)
    except (struct.error, IndexError):
        return None
    return None


def _webp_size(content: bytes) -> tuple[int, int] | None:
    chunk = content[12:16]
    if chunk == b"VP8X":
        return (int.from_bytes(content[24:27], "little") + 1, int.from_bytes(content[27:30], "little") + 1)
    if chunk == b"VP8L":
        bits = int.from_bytes(content[21:25], "little")
        return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", content[26:30])
        return (width & 0x3FFF, height & 0x3FFF)
    return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    position, end = 2, min(len(content), 1024 * 1024)
    while position + 9 < end:
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        length = struct.unpack(">H", content[position + 2 : position + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            height, width = struct.unpack(">HH", content[position + 5 : position + 9])
            return (width, height)
        if length < 2:
            return None
        position += 2 + length
    return None


# --- text -----------------------------------------------------------------------------------------

_XML_START = re.compile(r"^\s*<(\?xml|!--|!DOCTYPE|[A-Za-z_])")
_XML_PROLOG = re.compile(r"\s*(<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>)", re.S)
_XML_ROOT = re.compile(r"\s*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_ACTIVE_ROOTS = {"html", "svg", "xhtml", "xsl", "stylesheet", "transform"}
TEXT_TYPES = {
    "text/plain": TXT,
    "text/csv": CSV,
    "application/csv": CSV,
    "text/comma-separated-values": CSV,
    "text/tab-separated-values": CSV,
    "application/xml": XML,
    "text/xml": XML,
}


def decode_text(content: bytes, charset: str | None = None) -> str | None:
    """``content`` as text, or None when it is not text (NUL bytes, control characters)."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = content.decode("utf-16")
        except UnicodeDecodeError:
            return None
    elif b"\x00" in content:
        return None
    else:
        text = None
        for encoding in ("utf-8-sig", _known_charset(charset), "cp1252"):
            if encoding:
                try:
                    text = content.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
        if text is None:
            text = content.decode("latin-1")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f\v\x1a")
    if controls > _TEXT_CONTROL_SHARE * max(len(text), 1):
        return None
    return text


def _known_charset(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except (LookupError, ValueError):
        return None


def _classify_text(content: bytes, filename: str | None, declared_type: str) -> Classification:
    ext = extension_of(filename)
    if ext in ACTIVE_EXTENSIONS or declared_type in {"text/html", "application/xhtml+xml", "image/svg+xml"}:
        return refuse("active-content", "it is HTML or SVG, which can hold scripts: send a PDF instead")
    text = decode_text(content[: 1024 * 1024])
    if text is None:
        return refuse(
            "unsupported",
            "its content is not a document type Coffre accepts (PDF, images, "
            "office documents, text, CSV, XML)",
        )
    if _XML_START.match(text):
        return _classify_xml(text)
    if ext in CSV.extensions or TEXT_TYPES.get(declared_type) is CSV:
        return Classification(CSV)
    if ext in TXT.extensions or (not ext and declared_type in ("text/plain", "")):
        return Classification(TXT)
    if ext in DOCUMENT_EXTENSIONS:
        return Classification(TXT)  # e.g. a text file named .pdf: stored as text, renamed .txt
    shown = f".{ext} file" if ext else f"{declared_type} file"
    return refuse(
        "unsupported",
        f"it is a {shown}, not a document type Coffre accepts (PDF, images, office "
        "documents, text, CSV, XML)",
    )


def _classify_xml(text: str) -> Classification:
    head = text[: 64 * 1024]
    position = 0
    while True:
        match = _XML_PROLOG.match(head, position)
        if not match:
            break
        if "<!ENTITY" in match.group(0):
            return refuse(
                "active-content",
                "it is XML that declares entities (which can expand without "
                "limit): send it without a DOCTYPE",
            )
        position = match.end()
    root = _XML_ROOT.match(head, position)
    if root and root.group(2).lower() in _ACTIVE_ROOTS:
        return refuse("active-content", "it is HTML or SVG, which can hold scripts: send a PDF instead")
    if "<script" in head.lower():
        return refuse("active-content", "it is markup holding a script: send a PDF instead")
    return Classification(XML)
