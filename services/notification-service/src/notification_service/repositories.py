"""Every SQL query of notification-service."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, and_, delete, func, literal_column, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from casebridge_common.auth import Principal
from notification_service.domain.models import (
    BeneficiaryErasure,
    DeliveryStatus,
    EmailMessage,
    EmailTemplate,
    InboxItem,
    InboxKind,
    Language,
    MailStatus,
    NotificationPreference,
    SmsMessage,
    Subscription,
    SubscriptionStatus,
    WebhookDelivery,
    WithdrawalReceipt,
)


def _addressed_to(who: Principal) -> ColumnElement[bool]:
    """An office's items (or, for an organisation-bound partner, its organisation's), and the caller's own."""
    personal = col(InboxItem.recipient_subject).is_(None) | (col(InboxItem.recipient_subject) == who.subject)
    if who.office_id is not None:
        return and_(col(InboxItem.office_id) == who.office_id, personal)
    if who.organisation_id is not None:
        return and_(col(InboxItem.office_id).is_(None), col(InboxItem.organisation_id) == who.organisation_id, personal)
    return literal_column("false")


def addressee_lock_key(office_id: str | None, organisation_id: str | None) -> str:
    return f"inbox:office:{office_id}" if office_id is not None else f"inbox:organisation:{organisation_id}"


class InboxItems:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_addressee(self, key: str) -> None:
        """Serialise one addressee's writers until commit, so `change_seq` follows commit order."""
        await self._session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    def add(self, item: InboxItem) -> None:
        self._session.add(item)

    async def get(self, who: Principal, item_id: UUID) -> InboxItem | None:
        query = select(InboxItem).where(col(InboxItem.id) == item_id, _addressed_to(who))
        return (await self._session.scalars(query)).one_or_none()

    async def page(
        self,
        who: Principal,
        *,
        unread: bool | None,
        kind: InboxKind | None,
        case_id: UUID | None,
        archived: bool,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> list[InboxItem]:
        query = select(InboxItem).where(_addressed_to(who))
        query = query.where(
            col(InboxItem.archived_at).is_not(None) if archived else col(InboxItem.archived_at).is_(None)
        )
        if unread is not None:
            query = query.where(col(InboxItem.read_at).is_(None) if unread else col(InboxItem.read_at).is_not(None))
        if kind is not None:
            query = query.where(col(InboxItem.kind) == kind)
        if case_id is not None:
            query = query.where(col(InboxItem.case_id) == case_id)
        if after is not None:
            query = query.where(tuple_(col(InboxItem.created_at), col(InboxItem.id)) < after)
        query = query.order_by(col(InboxItem.created_at).desc(), col(InboxItem.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def unread_counts(self, who: Principal) -> dict[InboxKind, int]:
        query = (
            select(col(InboxItem.kind), func.count())
            .where(_addressed_to(who), col(InboxItem.read_at).is_(None), col(InboxItem.archived_at).is_(None))
            .group_by(col(InboxItem.kind))
        )
        return {InboxKind(kind): int(n) for kind, n in (await self._session.execute(query)).all()}

    async def set_state(self, item: InboxItem, *, read_at: datetime | None, archived_at: datetime | None) -> InboxItem:
        """New read/archive state, a new version and a new change number, in one statement."""
        statement = (
            update(InboxItem)
            .where(col(InboxItem.id) == item.id)
            .values(
                read_at=read_at,
                archived_at=archived_at,
                version=col(InboxItem.version) + 1,
                change_seq=literal_column("DEFAULT"),
            )
            .returning(InboxItem)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return (await self._session.scalars(statement)).one()

    async def addressees_of_cases(self, case_ids: list[UUID]) -> list[str]:
        """The lock keys of everyone holding an item about these cases, in lock order."""
        query = (
            select(col(InboxItem.office_id), col(InboxItem.organisation_id))
            .where(col(InboxItem.case_id).in_(case_ids))
            .distinct()
        )
        return sorted({addressee_lock_key(o, g) for o, g in (await self._session.execute(query)).all()})

    async def redact_for_cases(
        self, case_ids: list[UUID], *, title: str, now: datetime, erase: bool = False
    ) -> list[UUID]:
        """Replace the titles of the cases' items not yet redacted (every item, and archive it, for an erasure);
        a new version and change number each, so mobile clients replace their copies on the next delta sync.
        Callers hold the addressees' locks."""
        values: dict[str, object] = {
            "title": title,
            "redacted_at": now,
            "version": col(InboxItem.version) + 1,
            "change_seq": literal_column("DEFAULT"),
        }
        condition: ColumnElement[bool] = col(InboxItem.case_id).in_(case_ids)
        if erase:
            values["archived_at"] = func.coalesce(col(InboxItem.archived_at), now)
        else:
            condition = and_(condition, col(InboxItem.redacted_at).is_(None))
        statement = (
            update(InboxItem)
            .where(condition)
            .values(**values)
            .returning(col(InboxItem.id))
            .execution_options(synchronize_session=False)
        )
        return list((await self._session.scalars(statement)).all())

    async def ids_for_cases(self, case_ids: list[UUID]) -> list[UUID]:
        query = select(col(InboxItem.id)).where(col(InboxItem.case_id).in_(case_ids))
        return list((await self._session.scalars(query)).all())

    async def changes(self, who: Principal, *, after_seq: int, limit: int) -> list[InboxItem]:
        query = (
            select(InboxItem)
            .where(_addressed_to(who), col(InboxItem.change_seq) > after_seq)
            .order_by(col(InboxItem.change_seq))
            .limit(limit + 1)
        )
        return list((await self._session.scalars(query)).all())


def _owned_by(who: Principal) -> ColumnElement[bool]:
    if who.office_id is not None:
        return col(Subscription.owner_office_id) == who.office_id
    if who.organisation_id is not None:
        return and_(
            col(Subscription.owner_office_id).is_(None),
            col(Subscription.owner_organisation_id) == who.organisation_id,
        )
    return literal_column("false")


class Subscriptions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, subscription: Subscription) -> None:
        self._session.add(subscription)

    async def get(self, who: Principal, subscription_id: UUID, *, for_update: bool = False) -> Subscription | None:
        query = select(Subscription).where(col(Subscription.id) == subscription_id, _owned_by(who))
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def get_for_dispatch(self, subscription_id: UUID) -> Subscription | None:
        query = select(Subscription).where(col(Subscription.id) == subscription_id).with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def page(self, who: Principal, *, after: tuple[datetime, UUID] | None, limit: int) -> list[Subscription]:
        query = select(Subscription).where(_owned_by(who))
        if after is not None:
            query = query.where(tuple_(col(Subscription.created_at), col(Subscription.id)) < after)
        query = query.order_by(col(Subscription.created_at).desc(), col(Subscription.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    async def delete(self, subscription: Subscription) -> None:
        await self._session.delete(subscription)

    async def listening_to(self, event_type: str) -> list[Subscription]:
        """Active and paused ones: a paused subscription keeps its queue and resumes where it stopped."""
        query = (
            select(Subscription)
            .where(col(Subscription.event_types).any_() == event_type)
            .order_by(col(Subscription.id))
        )
        return list((await self._session.scalars(query)).all())


class Deliveries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, delivery: WebhookDelivery) -> None:
        self._session.add(delivery)

    async def get(self, subscription_id: UUID, delivery_id: UUID) -> WebhookDelivery | None:
        query = select(WebhookDelivery).where(
            col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.subscription_id) == subscription_id
        )
        return (await self._session.scalars(query)).one_or_none()

    async def get_many(self, delivery_ids: list[UUID]) -> list[WebhookDelivery]:
        query = select(WebhookDelivery).where(col(WebhookDelivery.id).in_(delivery_ids)).with_for_update()
        return list((await self._session.scalars(query)).all())

    async def page(
        self,
        subscription_id: UUID,
        *,
        status: DeliveryStatus | None,
        after: tuple[int, UUID] | None,
        limit: int,
    ) -> list[WebhookDelivery]:
        query = select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == subscription_id)
        if status is not None:
            query = query.where(col(WebhookDelivery.status) == status)
        if after is not None:
            query = query.where(tuple_(col(WebhookDelivery.seq), col(WebhookDelivery.id)) < after)
        query = query.order_by(col(WebhookDelivery.seq).desc(), col(WebhookDelivery.id).desc()).limit(limit + 1)
        return list((await self._session.scalars(query)).all())

    @staticmethod
    def _about(case_ids: list[UUID], beneficiary_id: UUID) -> ColumnElement[bool]:
        """A stored event about one of these cases or this beneficiary: by subject, `case_id` or `beneficiary_id`."""
        event = col(WebhookDelivery.event)
        ids = [str(c) for c in case_ids]
        return or_(
            func.jsonb_extract_path_text(event, "subject").in_(ids),
            func.jsonb_extract_path_text(event, "data", "case_id").in_(ids),
            func.jsonb_extract_path_text(event, "data", "beneficiary_id") == str(beneficiary_id),
        )

    async def about(self, case_ids: list[UUID], beneficiary_id: UUID) -> list[WebhookDelivery]:
        """Not yet redacted, locked in queue order: the dispatcher's outcome waits for the redaction."""
        query = (
            select(WebhookDelivery)
            .where(self._about(case_ids, beneficiary_id), col(WebhookDelivery.redacted_at).is_(None))
            .order_by(col(WebhookDelivery.seq))
            .with_for_update()
        )
        return list((await self._session.scalars(query)).all())

    async def purge_about(self, case_ids: list[UUID], beneficiary_id: UUID) -> int:
        result = await self._session.execute(delete(WebhookDelivery).where(self._about(case_ids, beneficiary_id)))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def due_queues(self, now: datetime, *, per_subscription: int, subscriptions: int) -> list[WebhookDelivery]:
        """The oldest pending deliveries of active subscriptions whose queue head is due, in `seq` order.

        Only a queue's head may be scheduled later (after a failure); the rows behind it wait for it.
        """
        ranked = (
            select(
                col(WebhookDelivery.id).label("id"),
                func.row_number()
                .over(partition_by=col(WebhookDelivery.subscription_id), order_by=col(WebhookDelivery.seq))
                .label("position"),
                func.first_value(col(WebhookDelivery.next_attempt_at))
                .over(partition_by=col(WebhookDelivery.subscription_id), order_by=col(WebhookDelivery.seq))
                .label("head_due_at"),
            )
            .join(Subscription, col(Subscription.id) == col(WebhookDelivery.subscription_id))
            .where(
                col(WebhookDelivery.status) == DeliveryStatus.PENDING,
                col(Subscription.status) == SubscriptionStatus.ACTIVE,
            )
            .subquery()
        )
        heads = (
            select(col(WebhookDelivery.subscription_id))
            .join(ranked, ranked.c.id == col(WebhookDelivery.id))
            .where(ranked.c.position == 1, ranked.c.head_due_at <= now)
            .order_by(col(WebhookDelivery.next_attempt_at))
            .limit(subscriptions)
            .scalar_subquery()
        )
        query = (
            select(WebhookDelivery)
            .join(ranked, ranked.c.id == col(WebhookDelivery.id))
            .where(ranked.c.position <= per_subscription, col(WebhookDelivery.subscription_id).in_(heads))
            .order_by(col(WebhookDelivery.subscription_id), col(WebhookDelivery.seq))
        )
        return list((await self._session.scalars(query)).all())


class Preferences:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, owner_key: str, *, for_update: bool = False) -> NotificationPreference | None:
        query = select(NotificationPreference).where(col(NotificationPreference.owner_key) == owner_key)
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    def add(self, preference: NotificationPreference) -> None:
        self._session.add(preference)


class Mails:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, mail: EmailMessage) -> None:
        self._session.add(mail)

    async def due(self, now: datetime, *, limit: int) -> list[EmailMessage]:
        """Skip-locked: several mailers never take the same row."""
        query = (
            select(EmailMessage)
            .where(col(EmailMessage.status) == MailStatus.PENDING, col(EmailMessage.next_attempt_at) <= now)
            .order_by(col(EmailMessage.next_attempt_at), col(EmailMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())

    async def get_many(self, mail_ids: list[UUID]) -> list[EmailMessage]:
        query = select(EmailMessage).where(col(EmailMessage.id).in_(mail_ids)).with_for_update()
        return list((await self._session.scalars(query)).all())

    async def for_item(self, inbox_item_id: UUID) -> list[EmailMessage]:
        query = select(EmailMessage).where(col(EmailMessage.inbox_item_id) == inbox_item_id)
        return list((await self._session.scalars(query)).all())

    async def unredacted_for_items(self, inbox_item_ids: list[UUID]) -> list[EmailMessage]:
        query = (
            select(EmailMessage)
            .where(col(EmailMessage.inbox_item_id).in_(inbox_item_ids), col(EmailMessage.redacted_at).is_(None))
            .order_by(col(EmailMessage.id))
            .with_for_update()
        )
        return list((await self._session.scalars(query)).all())

    async def purge_for_items(self, inbox_item_ids: list[UUID]) -> int:
        result = await self._session.execute(
            delete(EmailMessage).where(col(EmailMessage.inbox_item_id).in_(inbox_item_ids))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class Templates:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(
        self, owner_key: str, kind: InboxKind, language: Language, *, for_update: bool = False
    ) -> EmailTemplate | None:
        query = select(EmailTemplate).where(
            col(EmailTemplate.owner_key) == owner_key,
            col(EmailTemplate.kind) == kind,
            col(EmailTemplate.language) == language,
        )
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    def add(self, template: EmailTemplate) -> None:
        self._session.add(template)


class Texts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, message: SmsMessage) -> None:
        self._session.add(message)

    async def due(self, now: datetime, *, limit: int) -> list[SmsMessage]:
        """Skip-locked: several senders never take the same row."""
        query = (
            select(SmsMessage)
            .where(col(SmsMessage.status) == MailStatus.PENDING, col(SmsMessage.next_attempt_at) <= now)
            .order_by(col(SmsMessage.next_attempt_at), col(SmsMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self._session.scalars(query)).all())

    async def get_many(self, message_ids: list[UUID]) -> list[SmsMessage]:
        query = select(SmsMessage).where(col(SmsMessage.id).in_(message_ids)).with_for_update()
        return list((await self._session.scalars(query)).all())

    async def unredacted_for_items(self, inbox_item_ids: list[UUID]) -> list[SmsMessage]:
        query = (
            select(SmsMessage)
            .where(col(SmsMessage.inbox_item_id).in_(inbox_item_ids), col(SmsMessage.redacted_at).is_(None))
            .order_by(col(SmsMessage.id))
            .with_for_update()
        )
        return list((await self._session.scalars(query)).all())

    async def purge_for_items(self, inbox_item_ids: list[UUID]) -> int:
        result = await self._session.execute(
            delete(SmsMessage).where(col(SmsMessage.inbox_item_id).in_(inbox_item_ids))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class Receipts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, receipt: WithdrawalReceipt) -> None:
        self._session.add(receipt)

    async def get(self, withdrawal_id: UUID) -> WithdrawalReceipt | None:
        return await self._session.get(WithdrawalReceipt, withdrawal_id)


class Erasures:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, erasure: BeneficiaryErasure) -> None:
        self._session.add(erasure)

    async def get(self, beneficiary_id: UUID) -> BeneficiaryErasure | None:
        return await self._session.get(BeneficiaryErasure, beneficiary_id)
