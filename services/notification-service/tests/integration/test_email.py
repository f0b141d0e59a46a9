"""E-mail against a real SMTP server: aiosmtpd on a free loopback port, started here."""

import email
import email.policy
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage as Mail

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.events.contracts.notification import NotificationDelivered, NotificationFailed
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from notification_service.channels.email import SmtpServer
from notification_service.consumers.events import on_event
from notification_service.consumers.mail import mail_round
from notification_service.domain.models import Channel, EmailMessage, InboxKind, Language, MailStatus
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer import preferences, templates
from notification_service.unit_of_work import NotificationUnitOfWork

Sessions = async_sessionmaker[AsyncSession]
POLICY = RetryPolicy(base_delay_s=60, max_delay_s=60, max_attempts=2, pause_after_failures=100)


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Mail]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd hook
        message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        assert isinstance(message, Mail)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpServer]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, SmtpServer(host="127.0.0.1", port=controller.port, sender="CaseBridge <no-reply@casebridge.test>")
    controller.stop()


def _around_now() -> tuple[time, time]:
    now = utc_now().replace(microsecond=0)
    return (now - timedelta(hours=2)).time(), (now + timedelta(hours=2)).time()


async def prefer(
    sessions: Sessions, actor: Principal, *, language: Language, digest: bool = False, quiet: bool = False
) -> None:
    async with NotificationUnitOfWork(sessions) as uow:
        await preferences.set_preferences(
            uow,
            channels=[Channel.EMAIL],
            email_address="office@berlin.example",
            language=language,
            timezone="UTC",
            # two hours either side of now, so the window holds whatever the time of day (it may span midnight)
            quiet_hours=_around_now() if quiet else None,
            digest=digest,
            if_match='"0"',
            actor=actor,
            now=utc_now(),
        )
        await uow.commit()


async def survey_due(sessions: Sessions) -> uuid.UUID:
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        administration=Administration.BASELINE,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    await on_event(CloudEvent.wrap(due, source="/casebridge/scoring-service"), NotificationUnitOfWork(sessions))
    return due.case_id


async def emitted(sessions: Sessions, event_type: str) -> list[dict[str, object]]:
    async with NotificationUnitOfWork(sessions) as uow:
        rows = (
            await uow.session.scalars(
                select(OutboxMessage).where(col(OutboxMessage.event)["type"].astext == event_type)
            )
        ).all()
    return [r.event["data"] for r in rows]


async def test_an_arabic_reminder_arrives_with_a_text_part_and_a_right_to_left_html_part(
    sessions: Sessions, smtp: tuple[Inbox, SmtpServer], berlin: Principal
) -> None:
    received, server = smtp
    await prefer(sessions, berlin, language=Language.AR)
    case_id = await survey_due(sessions)
    assert await mail_round(sessions, server, policy=POLICY, now=utc_now()) == 1
    [(recipients, mail)] = received.mails
    assert recipients == ["office@berlin.example"]
    assert mail["Subject"] == "استبيان مستحق قبل 2027-01-03"
    assert mail["Content-Language"] == "ar"
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert str(case_id) in text.get_content()
    assert 'dir="rtl"' in html.get_content()
    [delivered] = await emitted(sessions, NotificationDelivered.type)
    assert delivered["channel"] == "email"
    assert await mail_round(sessions, server, policy=POLICY, now=utc_now()) == 0  # sent once


async def test_the_same_event_twice_sends_one_mail(
    sessions: Sessions, smtp: tuple[Inbox, SmtpServer], berlin: Principal
) -> None:
    received, server = smtp
    await prefer(sessions, berlin, language=Language.EN)
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        administration=Administration.FINAL,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    event = CloudEvent.wrap(due, source="/casebridge/scoring-service")
    for _ in range(2):
        await on_event(event, NotificationUnitOfWork(sessions))
    await mail_round(sessions, server, policy=POLICY, now=utc_now())
    assert [m["Subject"] for _, m in received.mails] == ["Survey due by 2027-01-03"]


async def test_a_digest_sends_one_mail_for_several_notices_at_digest_time(
    sessions: Sessions, smtp: tuple[Inbox, SmtpServer], berlin: Principal
) -> None:
    received, server = smtp
    await prefer(sessions, berlin, language=Language.FR, digest=True)
    cases = [await survey_due(sessions), await survey_due(sessions)]
    assert await mail_round(sessions, server, policy=POLICY, now=utc_now()) == 0  # held for the digest
    tomorrow = datetime.combine(utc_now().date() + timedelta(days=1), time(7, 1), tzinfo=UTC)
    assert await mail_round(sessions, server, policy=POLICY, now=tomorrow) == 1
    [(_, mail)] = received.mails
    assert mail["Subject"] == "CaseBridge : 2 notifications"
    text = mail.get_body(("plain",))
    assert text is not None
    assert all(str(c) in text.get_content() for c in cases)


async def test_quiet_hours_hold_the_mail(sessions: Sessions, smtp: tuple[Inbox, SmtpServer], berlin: Principal) -> None:
    received, server = smtp
    await prefer(sessions, berlin, language=Language.EN, quiet=True)
    await survey_due(sessions)
    assert await mail_round(sessions, server, policy=POLICY, now=utc_now()) == 0
    assert received.mails == []


async def test_an_unreachable_server_is_retried_then_the_mail_is_marked_failed(
    sessions: Sessions, berlin: Principal
) -> None:
    down = SmtpServer(host="127.0.0.1", port=free_port(), sender="x@casebridge.test", timeout_s=2)
    await prefer(sessions, berlin, language=Language.EN)
    case_id = await survey_due(sessions)
    t0 = utc_now()
    assert await mail_round(sessions, down, policy=POLICY, now=t0, jitter=lambda: 1.0) == 1
    assert await mail_round(sessions, down, policy=POLICY, now=t0 + timedelta(seconds=30)) == 0  # backing off
    assert await mail_round(sessions, down, policy=POLICY, now=t0 + timedelta(seconds=61)) == 1
    async with NotificationUnitOfWork(sessions) as uow:
        items = await uow.inbox_items.page(
            berlin, unread=None, kind=None, case_id=case_id, archived=False, after=None, limit=5
        )
        [row] = await uow.mails.for_item(items[0].id)
    assert isinstance(row, EmailMessage)
    assert (row.status, row.attempts) == (MailStatus.FAILED, 2)
    assert row.last_error is not None
    [failed] = await emitted(sessions, NotificationFailed.type)
    assert failed["attempts"] == 2


async def test_without_the_email_channel_nothing_is_queued(sessions: Sessions, berlin: Principal) -> None:
    case_id = await survey_due(sessions)
    async with NotificationUnitOfWork(sessions) as uow:
        [item] = await uow.inbox_items.page(
            berlin, unread=None, kind=None, case_id=case_id, archived=False, after=None, limit=5
        )
        assert await uow.mails.for_item(item.id) == []


async def test_the_mail_uses_the_offices_edited_template_over_the_shipped_one(
    sessions: Sessions, smtp: tuple[Inbox, SmtpServer], berlin: Principal
) -> None:
    received, server = smtp
    await prefer(sessions, berlin, language=Language.FR)
    async with NotificationUnitOfWork(sessions) as uow:
        await templates.set_template(
            uow,
            InboxKind.SURVEY_DUE,
            Language.FR,
            subject="À faire : {{ instrument }} ({{ due_on }})",
            text="Dossier {{ case_id }}",
            if_match='"0"',
            actor=berlin,
            now=utc_now(),
        )
        await uow.commit()
    case_id = await survey_due(sessions)
    assert await mail_round(sessions, server, policy=POLICY, now=utc_now()) == 1
    [(_, mail)] = received.mails
    assert mail["Subject"] == "À faire : rss (2027-01-03)"
    text = mail.get_body(("plain",))
    assert text is not None
    assert text.get_content().strip() == f"Dossier {case_id}"
