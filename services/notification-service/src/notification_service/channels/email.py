"""SMTP: one multipart/alternative message (plain text first, then HTML) per outgoing mail."""

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from notification_service.service_layer.mail import Outgoing


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0


def message_of(outgoing: Outgoing, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = outgoing.to_address
    message["Subject"] = outgoing.mail.subject
    message.set_content(outgoing.mail.text)
    message.add_alternative(outgoing.mail.html, subtype="html")
    message["Content-Language"] = outgoing.language.value  # after: making it multipart moves Content-* headers
    return message


async def send(server: SmtpServer, outgoing: Outgoing) -> str | None:
    """None when the server accepted the message; otherwise the reason, for a retry."""
    try:
        await aiosmtplib.send(
            message_of(outgoing, sender=server.sender),
            hostname=server.host,
            port=server.port,
            start_tls=server.starttls,
            username=server.username,
            password=server.password,
            timeout=server.timeout_s,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None
