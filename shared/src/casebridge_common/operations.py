"""Operator commands: `python -m casebridge_common.operations topics|migrate|audit-verify …` (used by make up,
deploy jobs and operators)."""

import argparse
import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from casebridge_common.audit import ChainVerification, verify_chain
from casebridge_common.db import session_factory
from casebridge_common.kafka import Topics, ensure_topics, load_topic_specs
from casebridge_common.migrations import upgrade

DEFAULT_TOPICS_FILE = Path(__file__).resolve().parents[3] / "deploy" / "kafka" / "topics.yaml"


def _progress(checked: int) -> None:
    sys.stdout.write(f"audit-verify: {checked} entries intact so far\n")
    sys.stdout.flush()


async def _verify_audit(url: str) -> ChainVerification:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        return await verify_chain(session_factory(engine), progress=_progress)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="casebridge_common.operations")
    commands = parser.add_subparsers(dest="command", required=True)
    topics = commands.add_parser("topics", help="create the topics of topics.yaml that do not exist yet")
    topics.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    topics.add_argument("--prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    topics.add_argument("--file", type=Path, default=DEFAULT_TOPICS_FILE)
    topics.add_argument("--replication", type=int, default=1)
    migrate = commands.add_parser("migrate", help="upgrade a service's database to the newest migration")
    migrate.add_argument("--service-dir", type=Path, required=True, help="the folder holding alembic.ini")
    commands.add_parser(
        "audit-verify", help="seal pending entries, then check a service's audit hash chain; exits 1 when it is broken"
    )
    args = parser.parse_args(argv)

    if args.command == "topics":
        specs = load_topic_specs(args.file)
        asyncio.run(ensure_topics(args.bootstrap, specs, Topics(args.prefix), replication=args.replication))
        sys.stdout.write(f"topics: {len(specs)} ensured on {args.bootstrap}\n")
        return
    url = os.environ.get("DATABASE_URL")
    if not url:
        parser.error("DATABASE_URL must be set")
    if args.command == "migrate":
        upgrade(args.service_dir, url)
        sys.stdout.write(f"migrate: {args.service_dir.name} at head\n")
        return
    sys.stdout.write(f"audit-verify: checking the audit chain of database {make_url(url).database}\n")
    result = asyncio.run(_verify_audit(url))
    if not result.ok:
        sys.stdout.write(
            f"audit-verify: BROKEN at seq {result.first_broken_seq} ({result.problem}); "
            f"{result.entries_checked} entries before it are intact\n"
        )
        raise SystemExit(1)
    sys.stdout.write(
        f"audit-verify: ok, {result.entries_checked} entries intact (last seq {result.last_seq}; "
        f"{result.sealed_before_check} sealed before the check)\n"
    )


if __name__ == "__main__":
    main()
