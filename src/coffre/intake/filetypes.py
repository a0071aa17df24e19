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
why not libmagic, ``filetype`` or ``puremagic``); OLE2 directories are read with olefile.

This module never executes, renders or fetches anything, and never raises for what a file holds.
"""

import codecs
import io
import re
import struct
import zipfile
from dataclasses import dataclass

import olefile


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
# Root CLSIDs of Windows Installer packages, patches and transforms (OLE2 files).
_MSI_CLSIDS = {
    "000C1084-0000-0000-C000-000000000046",
    "000C1086-0000-0000-C000-000000000046",
    "000C1082-0000-0000-C000-000000000046",
}
_PDF_MAGIC_WITHIN = 1024  # PDF readers accept the header anywhere in the first kilobyte
_ZIP_HEAD_BYTES = 512  # of each entry of a plain ZIP, to recognise archives and programs inside
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


def _refuse(code: str, reason: str) -> Classification:
    return Classification(None, code, reason)


def extension_of(filename: str | None) -> str:
    name = (filename or "").strip().rstrip(". ").lower()
    stem, dot, ext = name.rpartition(".")
    return ext if dot and stem.strip(". ") else ""


def name_refusal(filename: str | None, declared_type: str) -> Classification | None:
    """A refusal from the name or declared type alone, or None."""
    ext = extension_of(filename)
    if ext in EXECUTABLE_EXTENSIONS:
        return _refuse("executable", f"the name ends in .{ext}: programs and installers are refused")
    if ext in SCRIPT_EXTENSIONS:
        return _refuse("script", f"the name ends in .{ext}: scripts are refused")
    if ext in MACRO_EXTENSIONS:
        return _refuse("macro", f"the name ends in .{ext}: office documents with macros are refused")
    if declared_type in EXECUTABLE_TYPES:
        return _refuse("executable", f"it is declared as {declared_type}: programs and scripts are refused")
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
        return _refuse(
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
    if content.startswith(_OLE_MAGIC):
        return _classify_ole(content, filename)
    if is_zip(content):
        return classify_zip(content, filename, limits)
    kind = archive_kind(content)
    if kind:
        return _refuse(
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


def _classify_ole(content: bytes, filename: str | None) -> Classification:
    """An OLE2 compound file: .doc, .xls, .ppt accepted; installers, macros, encryption refused."""
    try:
        with olefile.OleFileIO(io.BytesIO(content)) as ole:
            clsid = (ole.root.clsid or "").upper() if ole.root else ""
            entries = ["/".join(path) for path in ole.listdir(streams=True, storages=True)]
    except Exception:  # noqa: BLE001 - olefile raises many kinds of errors on damaged files
        return _refuse("damaged", "it looks like an old Office document (OLE2) but cannot be read")
    if clsid in _MSI_CLSIDS:
        return _refuse("executable", "its content is a Windows installer (MSI): installers are refused")
    names = {entry.lower() for entry in entries}
    tops = {entry.split("/", 1)[0] for entry in names}
    if "encryptedpackage" in names or "encryptioninfo" in names:
        return _refuse(
            "encrypted",
            "it is a password-protected office document: Coffre cannot check "
            "what it holds; send it without a password",
        )
    if tops & {"macros", "_vba_project_cur", "vba"} or any(
        part == "vba" for entry in names for part in entry.split("/")
    ):
        return _refuse("macro", "it is an office document with macros: documents with macros are refused")
    if "worddocument" in names:
        return Classification(DOC)
    if "workbook" in names or "book" in names:
        return Classification(XLS)
    if "powerpoint document" in names:
        return Classification(PPT)
    if any(name.startswith("__substg1.0_") for name in tops):
        return _refuse(
            "unsupported",
            "it is an Outlook message (.msg): forward the mail as an attachment "
            "(.eml) or send its attachments",
        )
    return _refuse(
        "unsupported", "it is an OLE2 compound file that is not a Word, Excel or PowerPoint document"
    )


def classify_zip(content: bytes, filename: str | None, limits) -> Classification:
    """A ZIP: an OOXML or OpenDocument file, a Java/Android package, or a plain archive.

    The bomb checks read the central directory only; a plain archive's entries are opened for
    their first bytes (bounded by the declared sizes, which zipfile never reads past).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            bomb = _bomb_check(infos, len(content), limits)
            if bomb:
                return bomb
            names = {info.filename for info in infos}
            if any(info.flag_bits & 0x1 for info in infos):
                return _refuse(
                    "encrypted",
                    "it is a password-protected ZIP: Coffre cannot check what it "
                    "holds; send the files without a password",
                )
            if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
                return _refuse(
                    "archive-format",
                    "it is a ZIP compressed with a method Coffre does not "
                    "open (only stored and deflated entries)",
                )
            if "[Content_Types].xml" in names:
                return _classify_ooxml(archive, names)
            if "mimetype" in names:
                return _classify_opendocument(archive, names)
            if "AndroidManifest.xml" in names or "classes.dex" in names:
                return _refuse("executable", "its content is an Android application: programs are refused")
            if "META-INF/MANIFEST.MF" in names and any(name.endswith(".class") for name in names):
                return _refuse("executable", "its content is a Java application (JAR): programs are refused")
            return _classify_plain_zip(archive, infos, limits)
    except Exception:  # noqa: BLE001 - zipfile raises BadZipFile, ValueError, struct.error, EOFError...
        return _refuse("damaged", "it looks like a ZIP (or an Office document) but cannot be read")


def _bomb_check(infos, archive_size: int, limits) -> Classification | None:
    if len(infos) > limits.archive_max_entries:
        return _refuse(
            "archive-bomb",
            f"it is a ZIP of {len(infos)} entries, more than the {limits.archive_max_entries} accepted",
        )
    total = sum(info.file_size for info in infos)
    if total > limits.archive_max_size:
        return _refuse(
            "archive-bomb",
            f"it is a ZIP that would expand to {_megabytes(total)}, more than "
            f"the {_megabytes(limits.archive_max_size)} accepted",
        )
    if total > limits.archive_max_ratio * max(archive_size, 1) and total > 1024 * 1024:
        return _refuse(
            "archive-bomb",
            f"it is a ZIP that would expand {total // max(archive_size, 1)} "
            f"times, more than the {limits.archive_max_ratio} times accepted",
        )
    return None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with archive.open(name) as member:
        return member.read(limit)


def _classify_ooxml(archive: zipfile.ZipFile, names: set[str]) -> Classification:
    lowered = {name.lower() for name in names}
    content_types = _read_member(archive, "[Content_Types].xml", 1024 * 1024)
    if any(name.endswith("vbaproject.bin") for name in lowered) or b"macroEnabled" in content_types:
        return _refuse("macro", "it is an office document with macros: documents with macros are refused")
    if "word/document.xml" in lowered:
        return Classification(DOCX)
    if "xl/workbook.xml" in lowered:
        return Classification(XLSX)
    if "ppt/presentation.xml" in lowered:
        return Classification(PPTX)
    return _refuse(
        "unsupported", "it is an Office Open XML file that is not a Word, Excel or PowerPoint document"
    )


_OPENDOCUMENT = {
    b"application/vnd.oasis.opendocument.text": ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": ODS,
    b"application/vnd.oasis.opendocument.presentation": ODP,
}


def _classify_opendocument(archive: zipfile.ZipFile, names: set[str]) -> Classification:
    mimetype = _read_member(archive, "mimetype", 200).strip()
    file_type = _OPENDOCUMENT.get(mimetype)
    if file_type is None:
        return _refuse(
            "unsupported", "it is an OpenDocument file that is not a text, spreadsheet or presentation"
        )
    if any(
        name.startswith("Scripts/") or (name.startswith("Basic/") and name != "Basic/script-lc.xml")
        for name in names
    ):
        return _refuse("macro", "it is an office document with macros: documents with macros are refused")
    return Classification(file_type)


def _classify_plain_zip(archive: zipfile.ZipFile, infos, limits) -> Classification:
    if not limits.accept_zip:
        return _refuse(
            "archive", "it is a ZIP archive: archives are not accepted here; send the files themselves"
        )
    for info in infos:
        if info.is_dir():
            continue
        entry = info.filename.rsplit("/", 1)[-1]
        ext = extension_of(entry)
        if ext in ARCHIVE_EXTENSIONS:
            return _refuse(
                "nested-archive",
                f"it is a ZIP holding another archive ({_shown(entry)}): "
                "archives inside archives are refused",
            )
        if ext in EXECUTABLE_EXTENSIONS or ext in SCRIPT_EXTENSIONS or ext in MACRO_EXTENSIONS:
            return _refuse("executable", f"it is a ZIP holding a program or script ({_shown(entry)})")
        head = _read_member(archive, info.filename, _ZIP_HEAD_BYTES)
        if is_zip(head) or archive_kind(head):
            return _refuse(
                "nested-archive",
                f"it is a ZIP holding another archive ({_shown(entry)}): "
                "archives inside archives are refused",
            )
        if executable_kind(head):
            return _refuse("executable", f"it is a ZIP holding a program or script ({_shown(entry)})")
    return Classification(ZIP)


def _shown(name: str) -> str:
    """An entry name as it may appear in a reason: printable, short."""
    text = "".join(char if char.isprintable() else "?" for char in name)
    return text if len(text) <= 60 else text[:57] + "..."


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
        return _refuse("active-content", "it is HTML or SVG, which can hold scripts: send a PDF instead")
    text = decode_text(content[: 1024 * 1024])
    if text is None:
        return _refuse(
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
    return _refuse(
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
            return _refuse(
                "active-content",
                "it is XML that declares entities (which can expand without "
                "limit): send it without a DOCTYPE",
            )
        position = match.end()
    root = _XML_ROOT.match(head, position)
    if root and root.group(2).lower() in _ACTIVE_ROOTS:
        return _refuse("active-content", "it is HTML or SVG, which can hold scripts: send a PDF instead")
    if "<script" in head.lower():
        return _refuse("active-content", "it is markup holding a script: send a PDF instead")
    return Classification(XML)
