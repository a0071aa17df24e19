"""What is inside ZIP and OLE2 files, read without extracting anything (``coffre.intake.filetypes``).

``classify_zip``: an Office Open XML document (.docx, .xlsx, .pptx), an OpenDocument (.odt, .ods,
.odp), a Java or Android package (refused), or a plain archive; every ZIP, Office documents
included, first passes the bomb checks read from its central directory (entry count, announced
uncompressed size, expansion ratio), then the encryption flags and compression methods. A plain
archive's entries are opened for their first bytes only (zipfile never reads past the size the
directory announced), to refuse archives and programs inside.

``classify_ole``: an OLE2 compound file's directory (olefile): Word, Excel, PowerPoint 97-2003
documents, or a Windows installer, a document with macros, a password-protected document, an
Outlook message (all refused).

Never extracts to disk, never runs a decompressor on anything but ZIP's deflate, never raises.
"""

import io
import zipfile

import olefile

from coffre.intake.filetypes import (
    ARCHIVE_EXTENSIONS,
    DOC,
    DOCX,
    EXECUTABLE_EXTENSIONS,
    MACRO_EXTENSIONS,
    ODP,
    ODS,
    ODT,
    PPT,
    PPTX,
    SCRIPT_EXTENSIONS,
    XLS,
    XLSX,
    ZIP,
    Classification,
    archive_kind,
    executable_kind,
    extension_of,
    is_zip,
    refuse,
)

# Root CLSIDs of Windows Installer packages, patches and transforms (OLE2 files).
_MSI_CLSIDS = {
    "000C1084-0000-0000-C000-000000000046",
    "000C1086-0000-0000-C000-000000000046",
    "000C1082-0000-0000-C000-000000000046",
}
_ZIP_HEAD_BYTES = 512  # of each entry of a plain ZIP, to recognise archives and programs inside


def classify_ole(content: bytes) -> Classification:
    """An OLE2 compound file: .doc, .xls, .ppt accepted; installers, macros, encryption refused."""
    try:
        with olefile.OleFileIO(io.BytesIO(content)) as ole:
            clsid = (ole.root.clsid or "").upper() if ole.root else ""
            entries = ["/".join(path) for path in ole.listdir(streams=True, storages=True)]
    except Exception:  # noqa: BLE001 - olefile raises many kinds of errors on damaged files
        return refuse("damaged", "it looks like an old Office document (OLE2) but cannot be read")
    if clsid in _MSI_CLSIDS:
        return refuse("executable", "its content is a Windows installer (MSI): installers are refused")
    names = {entry.lower() for entry in entries}
    tops = {entry.split("/", 1)[0] for entry in names}
    if "encryptedpackage" in names or "encryptioninfo" in names:
        return refuse(
            "encrypted",
            "it is a password-protected office document: Coffre cannot check "
            "what it holds; send it without a password",
        )
    if tops & {"macros", "_vba_project_cur", "vba"} or any(
        part == "vba" for entry in names for part in entry.split("/")
    ):
        return refuse("macro", "it is an office document with macros: documents with macros are refused")
    if "worddocument" in names:
        return Classification(DOC)
    if "workbook" in names or "book" in names:
        return Classification(XLS)
    if "powerpoint document" in names:
        return Classification(PPT)
    if any(name.startswith("__substg1.0_") for name in tops):
        return refuse(
            "unsupported",
            "it is an Outlook message (.msg): forward the mail as an attachment "
            "(.eml) or send its attachments",
        )
    return refuse(
        "unsupported", "it is an OLE2 compound file that is not a Word, Excel or PowerPoint document"
    )


def classify_zip(content: bytes, limits) -> Classification:
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
                return refuse(
                    "encrypted",
                    "it is a password-protected ZIP: Coffre cannot check what it "
                    "holds; send the files without a password",
                )
            if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
                return refuse(
                    "archive-format",
                    "it is a ZIP compressed with a method Coffre does not "
                    "open (only stored and deflated entries)",
                )
            if "[Content_Types].xml" in names:
                return _classify_ooxml(archive, names)
            if "mimetype" in names:
                return _classify_opendocument(archive, names)
            if "AndroidManifest.xml" in names or "classes.dex" in names:
                return refuse("executable", "its content is an Android application: programs are refused")
            if "META-INF/MANIFEST.MF" in names and any(name.endswith(".class") for name in names):
                return refuse("executable", "its content is a Java application (JAR): programs are refused")
            return _classify_plain_zip(archive, infos, limits)
    except Exception:  # noqa: BLE001 - zipfile raises BadZipFile, ValueError, struct.error, EOFError...
        return refuse("damaged", "it looks like a ZIP (or an Office document) but cannot be read")


def _bomb_check(infos, archive_size: int, limits) -> Classification | None:
    if len(infos) > limits.archive_max_entries:
        return refuse(
            "archive-bomb",
            f"it is a ZIP of {len(infos)} entries, more than the {limits.archive_max_entries} accepted",
        )
    total = sum(info.file_size for info in infos)
    if total > limits.archive_max_size:
        return refuse(
            "archive-bomb",
            f"it is a ZIP that would expand to {_megabytes(total)}, more than "
            f"the {_megabytes(limits.archive_max_size)} accepted",
        )
    if total > limits.archive_max_ratio * max(archive_size, 1) and total > 1024 * 1024:
        return refuse(
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
        return refuse("macro", "it is an office document with macros: documents with macros are refused")
    if "word/document.xml" in lowered:
        return Classification(DOCX)
    if "xl/workbook.xml" in lowered:
        return Classification(XLSX)
    if "ppt/presentation.xml" in lowered:
        return Classification(PPTX)
    return refuse(
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
        return refuse(
            "unsupported", "it is an OpenDocument file that is not a text, spreadsheet or presentation"
        )
    if any(
        name.startswith("Scripts/") or (name.startswith("Basic/") and name != "Basic/script-lc.xml")
        for name in names
    ):
        return refuse("macro", "it is an office document with macros: documents with macros are refused")
    return Classification(file_type)


def _classify_plain_zip(archive: zipfile.ZipFile, infos, limits) -> Classification:
    if not limits.accept_zip:
        return refuse(
            "archive", "it is a ZIP archive: archives are not accepted here; send the files themselves"
        )
    for info in infos:
        if info.is_dir():
            continue
        entry = info.filename.rsplit("/", 1)[-1]
        ext = extension_of(entry)
        if ext in ARCHIVE_EXTENSIONS:
            return refuse(
                "nested-archive",
                f"it is a ZIP holding another archive ({_shown(entry)}): "
                "archives inside archives are refused",
            )
        if ext in EXECUTABLE_EXTENSIONS or ext in SCRIPT_EXTENSIONS or ext in MACRO_EXTENSIONS:
            return refuse("executable", f"it is a ZIP holding a program or script ({_shown(entry)})")
        head = _read_member(archive, info.filename, _ZIP_HEAD_BYTES)
        if is_zip(head) or archive_kind(head):
            return refuse(
                "nested-archive",
                f"it is a ZIP holding another archive ({_shown(entry)}): "
                "archives inside archives are refused",
            )
        if executable_kind(head):
            return refuse("executable", f"it is a ZIP holding a program or script ({_shown(entry)})")
    return Classification(ZIP)


def _shown(name: str) -> str:
    """An entry name as it may appear in a reason: printable, short."""
    text = "".join(char if char.isprintable() else "?" for char in name)
    return text if len(text) <= 60 else text[:57] + "..."
