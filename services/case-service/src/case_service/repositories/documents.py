"""The documents of case files. Content and metadata are sealed under the beneficiary's key on write and opened
on read (the :class:`Vault`), so callers above handle plaintext only."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col

from case_service.domain.documents import CaseDocument, DocumentKind
from case_service.domain.vault import VaultError, open_json, open_sealed, row_aad, seal, seal_json
from case_service.repositories.vault import Vault

TABLE = "case_documents"
# Lists and metadata reads never load the (up to megabytes of) sealed content; `content()` reads it alone.
_WITHOUT_CONTENT = defer(cast(QueryableAttribute[bytes], CaseDocument.sealed_content))


@dataclass(frozen=True, slots=True)
class DocumentMetadata:
    """The opened descriptive fields; None when the beneficiary's key was destroyed (erasure)."""

    filename: str | None
    description: str | None

    @property
    def erased(self) -> bool:
        return self.filename is None


ERASED = DocumentMetadata(filename=None, description=None)


class Documents:
    def __init__(self, session: AsyncSession, vault: Vault) -> None:
        self._session, self._vault = session, vault

    async def add(self, document: CaseDocument, content: bytes, *, filename: str, description: str | None) -> None:
        """Seal and add; raises `BeneficiaryKeyDestroyed` for an erased person."""
        key = await self._vault.key_for_writing(await self._vault.beneficiary_of(document.case_id))
        document.sealed_content = seal(key, content, aad=row_aad(TABLE, document.id, "content"))
        document.sealed_metadata = seal_json(
            key, {"filename": filename, "description": description}, aad=row_aad(TABLE, document.id, "metadata")
        )
        self._session.add(document)
        await self._session.flush()

    async def get(self, case_id: UUID, document_id: UUID, *, for_update: bool = False) -> CaseDocument | None:
        """A document of this case that is not deleted, without its content loaded."""
        query = (
            select(CaseDocument)
            .options(_WITHOUT_CONTENT)
            .where(
                col(CaseDocument.id) == document_id,
                col(CaseDocument.case_id) == case_id,
                col(CaseDocument.deleted_at).is_(None),
            )
        )
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def page(
        self,
        case_id: UUID,
        kinds: Collection[DocumentKind],
        *,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[CaseDocument]:
        """Documents of the given kinds, newest first with `id` last (stable); limit + 1 rows signal a next
        page. Filtering the kinds in SQL keeps what a reader may not see out of pages and cursors."""
        query = (
            select(CaseDocument)
            .options(_WITHOUT_CONTENT)
            .where(
                col(CaseDocument.case_id) == case_id,
                col(CaseDocument.deleted_at).is_(None),
                col(CaseDocument.kind).in_(list(kinds)),
            )
        )
        if after is not None:
            query = query.where(tuple_(col(CaseDocument.uploaded_at), col(CaseDocument.id)) < after)
        query = query.order_by(col(CaseDocument.uploaded_at).desc(), col(CaseDocument.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def metadata(self, document: CaseDocument) -> DocumentMetadata:
        key = await self._vault.key(await self._vault.beneficiary_of(document.case_id))
        if key is None:
            return ERASED
        opened = open_json(key, document.sealed_metadata, aad=row_aad(TABLE, document.id, "metadata"))
        filename, description = opened.get("filename"), opened.get("description")
        if not isinstance(filename, str) or not (description is None or isinstance(description, str)):
            raise VaultError("sealed document metadata of an unknown shape")
        return DocumentMetadata(filename=filename, description=description)

    async def content(self, document: CaseDocument) -> bytes | None:
        """The opened content (loaded only now); None when erasure destroyed the key."""
        key = await self._vault.key(await self._vault.beneficiary_of(document.case_id))
        if key is None:
            return None
        sealed = await self._session.scalar(
            select(col(CaseDocument.sealed_content)).where(col(CaseDocument.id) == document.id)
        )
        if sealed is None:
            raise LookupError(f"document {document.id} vanished")
        return open_sealed(key, sealed, aad=row_aad(TABLE, document.id, "content"))
