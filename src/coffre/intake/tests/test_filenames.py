"""Safe file names: paths, controls, reserved names, lengths and extensions."""

import pytest

from coffre.intake import filetypes
from coffre.intake.filenames import safe_filename, unique_filename


@pytest.mark.parametrize(
    "name, file_type, expected",
    [
        ("facture.pdf", filetypes.PDF, "facture.pdf"),
        ("Facture.PDF", filetypes.PDF, "Facture.pdf"),
        ("../../../etc/passwd", filetypes.TXT, "passwd.txt"),
        ("C:\\Users\\x\\scan.png", filetypes.PNG, "scan.png"),
        ("scan.pdf", filetypes.PNG, "scan.png"),
        ("rapport.v2", filetypes.PDF, "rapport.v2.pdf"),
        ("photo.jpeg", filetypes.JPEG, "photo.jpeg"),
        ("fact\u202efdp.exe", filetypes.PDF, "factfdp.pdf"),
        ("nul", filetypes.TXT, "_nul.txt"),
        ("COM1.tar.pdf", filetypes.PDF, "_COM1.tar.pdf"),
        ("  .hidden.pdf  ", filetypes.PDF, "hidden.pdf"),
        ('a<b>c:d"e|f?g*h.pdf', filetypes.PDF, "a_b_c_d_e_f_g_h.pdf"),
        ("tab\there\nnew.pdf", filetypes.PDF, "tab here new.pdf"),
        ("Cafe\u0301.pdf", filetypes.PDF, "Caf\u00e9.pdf"),
        ("", filetypes.PDF, "Subject line.pdf"),
        ("...", filetypes.PDF, "Subject line.pdf"),
        (".pdf", filetypes.PDF, "pdf.pdf"),
    ],
)
def test_safe_filename(name, file_type, expected):
    assert safe_filename(name, file_type, fallback="Subject line") == expected


def test_without_name_or_subject_the_name_is_document():
    assert safe_filename(None, filetypes.XLSX) == "document.xlsx"
    assert safe_filename("", filetypes.XLSX, fallback="Re: a/b") == "Re_ a_b.xlsx"


def test_long_names_are_cut_in_characters_and_bytes_keeping_the_extension():
    assert safe_filename("é" * 300 + ".pdf", filetypes.PDF, max_length=120) == "é" * 116 + ".pdf"
    assert len(safe_filename("€" * 200 + ".pdf", filetypes.PDF, max_length=250).encode()) <= 255


def test_unique_names_number_the_later_ones():
    taken = {"f.pdf", "f (2).pdf"}

    assert unique_filename("F.pdf", taken) == "F (3).pdf"
    assert unique_filename("g.pdf", taken) == "g.pdf"
