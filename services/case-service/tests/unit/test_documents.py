"""Content checks of uploaded documents, their file names, and the classification of their fields."""

import io
import zipfile

import pytest

from case_service.domain.disclosure import DOCUMENT_SECTION, SECTIONS, categories_of, fields_by_category, redact
from case_service.domain.documents import (
    KIND_CATEGORY,
    DocumentKind,
    MediaType,
    check_content,
    clean_filename,
    content_disposition,
    sniff,
)
from case_service.domain.errors import DocumentEmpty, DocumentTooLarge, DocumentTypeMismatch, DocumentTypeNotAllowed
from case_service.schemas.documents import DocumentRead
from casebridge_common.access import DataCategory as C

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", "MZ")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [(PDF, MediaType.PDF), (JPEG, MediaType.JPEG), (PNG, MediaType.PNG), (docx(), MediaType.DOCX)],
)
def test_each_allowed_format_is_recognised_by_its_magic_bytes(content: bytes, expected: MediaType) -> None:
    assert sniff(content) is expected
    assert check_content(expected.value, content, max_bytes=1024) is expected


@pytest.mark.parametrize(
    "content",
    [b"MZ\x90\x00 an executable", b"<html><script>alert(1)</script></html>", plain_zip(), b"PK\x03\x04 broken"],
)
def test_other_formats_are_not_recognised(content: bytes) -> None:
    assert sniff(content) is None


def test_a_document_over_the_limit_is_too_large() -> None:
    with pytest.raises(DocumentTooLarge) as raised:
        check_content("application/pdf", PDF + b"x" * 100, max_bytes=100)
    assert raised.value.context["max_bytes"] == 100


def test_an_empty_document_is_refused() -> None:
    with pytest.raises(DocumentEmpty):
        check_content("application/pdf", b"", max_bytes=100)


def test_a_type_outside_the_allow_list_is_refused_even_with_allowed_content() -> None:
    with pytest.raises(DocumentTypeNotAllowed) as raised:
        check_content("text/html", PDF, max_bytes=1024)
    assert raised.value.context["declared_type"] == "text/html"


def test_html_declared_as_pdf_is_refused() -> None:
    with pytest.raises(DocumentTypeNotAllowed):
        check_content("application/pdf", b"<html></html>", max_bytes=1024)


def test_a_png_declared_as_a_pdf_is_a_mismatch() -> None:
    with pytest.raises(DocumentTypeMismatch) as raised:
        check_content("application/pdf", PNG, max_bytes=1024)
    assert raised.value.context == {"declared_type": "application/pdf", "detected_type": "image/png"}


def test_declared_type_parameters_and_case_are_ignored() -> None:
    assert check_content("Application/PDF; charset=binary", PDF, max_bytes=1024) is MediaType.PDF


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\awa\\passeport.pdf", "passeport.pdf"),
        ('a"b\r\nc.pdf', "a_b_c.pdf"),
        ("جواز سفر.pdf", "جواز سفر.pdf"),
        ("...", "document.pdf"),
        (None, "document.pdf"),
    ],
)
def test_file_names_lose_directories_and_unsafe_characters(raw: str | None, expected: str) -> None:
    assert clean_filename(raw, MediaType.PDF) == expected


def test_a_long_file_name_is_cut_to_255_characters() -> None:
    assert len(clean_filename("a" * 400 + ".pdf", MediaType.PDF)) == 255


def test_the_disposition_is_an_attachment_with_an_ascii_fallback_and_the_utf8_name() -> None:
    assert content_disposition("passeport été.pdf") == (
        "attachment; filename=\"passeport ete.pdf\"; filename*=UTF-8''passeport%20%C3%A9t%C3%A9.pdf"
    )
    assert content_disposition("جواز.pdf").startswith("attachment; filename=\".pdf\"; filename*=UTF-8''%D8%AC")


def test_every_kind_has_a_category_and_a_section() -> None:
    assert set(KIND_CATEGORY) == set(DocumentKind) == set(DOCUMENT_SECTION)
    assert KIND_CATEGORY[DocumentKind.MEDICAL_RECORD] is C.HEALTH_CLINICAL
    assert KIND_CATEGORY[DocumentKind.IDENTITY_DOCUMENT] is C.IDENTITY_BIODATA
    assert KIND_CATEGORY[DocumentKind.LEGAL_DOCUMENT] is C.LEGAL_CRIMINAL


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_field_of_a_document_is_classified_as_its_kinds_category(kind: DocumentKind) -> None:
    mapping = SECTIONS[DOCUMENT_SECTION[kind]]
    names = set(DocumentRead.model_fields) - {"withheld"}
    assert sorted(n for n in names if n not in mapping.fields and n not in mapping.structure) == []
    assert categories_of(DOCUMENT_SECTION[kind], "filename", "x.pdf") == {KIND_CATEGORY[kind]}
    assert f"{DOCUMENT_SECTION[kind]}.content" in fields_by_category()[KIND_CATEGORY[kind]]


def test_a_medical_records_name_is_withheld_without_health_clinical() -> None:
    view = redact(
        DOCUMENT_SECTION[DocumentKind.MEDICAL_RECORD], {"id": "d", "filename": "hiv-test.pdf"}, {C.CASE_NOTES}
    )
    assert view.data == {"id": "d"}
    assert view.withheld == {C.HEALTH_CLINICAL}
