"""What is inside ZIP and OLE2 files: Office documents, macros, installers, encryption, archives."""

import io
import zipfile

from coffre.intake import containers, filetypes
from coffre.intake.mime import DEFAULT
from coffre.intake.tests import samples


def test_old_office_documents_by_their_ole_directory():
    assert containers.classify_ole(samples.ole({"PowerPoint Document": b"x"})).file_type is filetypes.PPT
    assert (
        containers.classify_ole(samples.ole({"EncryptedPackage": b"x", "EncryptionInfo": b"y"})).code
        == "encrypted"
    )
    assert containers.classify_ole(samples.ole({"__substg1.0_0037001F": b"x"})).code == "unsupported"
    assert containers.classify_ole(samples.ole({"Other": b"x"})).code == "unsupported"
    assert containers.classify_ole(samples.doc()[:700]).code == "damaged"


def test_opendocument_with_macros_is_refused():
    odt_with_basic = samples.plain_zip(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "Basic/Standard/Module1.xml": b"<x/>"}
    )

    assert containers.classify_zip(odt_with_basic, DEFAULT).code == "macro"
    assert (
        containers.classify_zip(
            samples.plain_zip({"mimetype": b"application/vnd.oasis.opendocument.graphics"}), DEFAULT
        ).code
        == "unsupported"
    )


def test_only_stored_and_deflated_zip_entries():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("a.pdf", samples.pdf())

    assert containers.classify_zip(buffer.getvalue(), DEFAULT).code == "archive-format"


def test_android_packages_are_programs():
    apk = samples.plain_zip({"AndroidManifest.xml": b"x", "classes.dex": b"dex\n035"})

    assert containers.classify_zip(apk, DEFAULT).code == "executable"


def test_a_plain_zip_is_read_to_its_entries_first_bytes_only():
    nested = samples.plain_zip(
        {"a/b/inner.pdf": samples.pdf(), "deep/x.dat": b"7z\xbc\xaf\x27\x1c" + bytes(10)}
    )

    assert containers.classify_zip(samples.plain_zip(), DEFAULT).file_type is filetypes.ZIP
    assert containers.classify_zip(nested, DEFAULT).code == "nested-archive"
