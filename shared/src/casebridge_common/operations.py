"""Operator commands: `python -m casebridge_common.operations topics|migrate …` (used by make up and deploy jobs)."""

import argparse
import asyncio
import os
import sys
from pathlib import Path

from casebridge_common.kafka import Topics, ensure_topics, load_topic_specs
from casebridge_common.migrations import upgrade

DEFAULT_TOPICS_FILE = Path(__file__).resolve().parents[3] / "deploy" / "kafka" / "topics.yaml"


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
    args = parser.parse_args(argv)

    if args.command == "topics":
        specs = load_topic_specs(args.file)
        asyncio.run(ensure_topics(args.bootstrap, specs, Topics(args.prefix), replication=args.replication))
        sys.stdout.write(f"topics: {len(specs)} ensured on {args.bootstrap}\n")
    else:
        url = os.environ.get("DATABASE_URL")
        if not url:
            parser.error("DATABASE_URL must be set")
        upgrade(args.service_dir, url)
        sys.stdout.write(f"migrate: {args.service_dir.name} at head\n")


if __name__ == "__main__":
    main()
