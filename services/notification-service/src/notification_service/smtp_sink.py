"""`python -m notification_service.smtp_sink`: a local SMTP server that keeps every mail it receives.

For development only: it accepts any sender and recipient, without TLS or authentication, and writes each
message to `<SMTP_SINK_DIR>/<timestamp>-<n>.eml` (default `var/mail`). Point the worker at it with
`SMTP_HOST=127.0.0.1 SMTP_PORT=8025`.
"""

import argparse
import asyncio
import itertools
import logging
import os
import signal
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from casebridge_common.db import utc_now

log = logging.getLogger("notification_service.smtp_sink")


class MailFolder:
    """aiosmtpd handler: one .eml file per message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or b""
        path = self.folder / f"{utc_now():%Y%m%dT%H%M%S%f}-{next(self._numbers)}.eml"
        path.write_bytes(content)
        log.info("stored mail from %s to %s in %s", envelope.mail_from, ", ".join(envelope.rcpt_tos), path)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SMTP_SINK_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMTP_SINK_PORT", "8025")))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("SMTP_SINK_DIR", "var/mail")))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd narrates every SMTP command at INFO
    controller = Controller(MailFolder(args.dir), hostname=args.host, port=args.port)
    controller.start()
    log.info("SMTP sink on %s:%d, storing mail in %s", args.host, args.port, args.dir)

    async def wait_for_signal() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait_for_signal())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
