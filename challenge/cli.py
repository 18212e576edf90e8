"""The `challenge` console command."""

import argparse
import importlib
import importlib.util
import asyncio
import getpass
import os
import socket
import sys
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError

from challenge import db
from challenge.errors import DomainError
from challenge.settings import load_settings


async def _with_orm(settings, work):
    """Run `work()` with the ORM initialised on the configured database."""
    from tortoise import Tortoise

    from challenge.audit.services import configure as configure_audit
    from challenge.follow.services import configure as configure_follow
    from challenge.mail.services import configure as configure_mail

    configure_mail(base_url=settings.base_url)
    configure_follow(secret=settings.secret_key)
    configure_audit(key=settings.audit_key)
    async with TortoiseContext():
        await Tortoise.init(config=db.tortoise_config(settings))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()


async def _migrate(settings) -> None:
    from tortoise.migrations.api import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with TortoiseContext():
        await migrate(config=db.tortoise_config(settings))


def cmd_migrate(args, settings) -> int:
    asyncio.run(_migrate(settings))
    print("migrations applied")
    return 0


def served_url(host: str, port: int) -> str:
    """The address a server started with `--host/--port` answers on, for links in mail and feeds."""
    if host in {"", "0.0.0.0", "::"}:
        host = socket.getfqdn()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def cmd_serve(args, settings) -> int:
    import uvicorn

    from challenge.logs import log_config

    if args.workers > 1 and not db.is_postgres(settings.database_url):
        # Several processes writing one SQLite file refuse each other's transactions ("database is locked").
        print("error: SQLite serves one worker; for several workers or servers use PostgreSQL "
              "(CHALLENGE_DATABASE_URL=postgres://...)", file=sys.stderr)
        return 2
    config = log_config(settings.log_format)
    asyncio.run(_migrate(settings))
    # Without CHALLENGE_BASE_URL, e-mailed and feed links name this server's own address;
    # the workers read it from the environment they inherit.
    if not os.environ.get("CHALLENGE_BASE_URL"):
        os.environ["CHALLENGE_BASE_URL"] = served_url(args.host, args.port)
    uvicorn.run(
        "challenge.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
        log_config=config,
    )
    return 0


def cmd_demo(args, settings) -> int:
    from challenge import demo

    asyncio.run(_migrate(settings))
    created = asyncio.run(_with_orm(settings, lambda: demo.load(settings)))
    print(created)
    return 0


def cmd_create_admin(args, settings) -> int:
    from challenge.accounts import passwords, services
    from challenge.accounts.models import Role

    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    password = args.password or getpass.getpass("Password: ")

    async def work():
        from challenge.catalog.services import seed_policy_domains
        from challenge.demo import programme_office

        await seed_policy_domains()
        office = await programme_office()
        return await services.create_user(email=args.email, name=args.name, password=password,
                                          organisation=office, roles={Role.ORGANISER})

    asyncio.run(_migrate(settings))
    try:
        user = asyncio.run(_with_orm(settings, work))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except IntegrityError:
        print(f"error: an account with the e-mail {args.email} already exists", file=sys.stderr)
        return 1
    print(f"organiser {user.email} created (id {user.id})")
    return 0


def _anchor_file(settings) -> Path:
    return settings.data_dir / "audit-anchors.jsonl"


def cmd_audit_verify(args, settings) -> int:
    from challenge.audit.services import last_anchor, verify_chain
    from challenge.reviews.integrity import score_mismatches

    path = Path(args.anchor) if args.anchor else _anchor_file(settings)
    if args.anchor and not path.exists():
        print(f"error: anchor file {path} not found", file=sys.stderr)
        return 2
    anchor = last_anchor(path)

    async def work():
        return await verify_chain(anchor=anchor), await score_mismatches()

    report, mismatches = asyncio.run(_with_orm(settings, work))
    against = f" against the anchor seq={anchor.seq} count={anchor.count} in {path}" if anchor else \
        " (no anchor yet: run `challenge audit anchor`)"
    if not report.ok:
        print(f"audit chain BROKEN at entry seq={report.broken_seq}: {report.reason} "
              f"({report.checked} entries verified before it){against}")
        return 1
    print(f"audit chain intact: {report.checked} entries verified{against}")
    for line in mismatches:
        print(f"score CHANGED outside the app: {line}")
    return 1 if mismatches else 0


def cmd_audit_anchor(args, settings) -> int:
    from challenge.audit.services import append_anchor, current_head

    head = asyncio.run(_with_orm(settings, current_head))
    if head is None:
        print("error: the audit log is empty, nothing to anchor", file=sys.stderr)
        return 1
    path = Path(args.out) if args.out else _anchor_file(settings)
    append_anchor(path, head)
    print(head.as_json())
    return 0


def cmd_send_mail(args, settings) -> int:
    from challenge.mail.services import deliver_pending

    sent, failed = asyncio.run(_with_orm(settings, lambda: deliver_pending(settings, limit=args.limit)))
    print(f"sent {sent}, failed {failed}")
    return 0 if not failed else 1


def cmd_backup(args, settings) -> int:
    from challenge.backup import BackupError, backup

    try:
        summary = asyncio.run(backup(settings, args.path))
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"backup written to {args.path} ({summary.size} bytes): {summary.database} database, "
          f"{sum(summary.counts.values())} rows, {summary.files} attachments, {summary.data_files} data files")
    return 0


def cmd_restore(args, settings) -> int:
    from challenge.backup import BackupError, restore

    try:
        summary = asyncio.run(restore(settings, args.path, force=args.force))
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"restored from {args.path}: {sum(summary.counts.values())} rows, {summary.files} attachments, "
          f"{summary.data_files} data files; run `challenge migrate` if this version is newer than the backup's")
    return 0


AREAS_WITH_COMMANDS = [
    area for area in ("files", "needs", "challenges", "bids", "reviews", "results", "delivery")
    if importlib.util.find_spec(f"challenge.{area}.commands") is not None
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="challenge", description="揭榜挂帅 · 赛马 platform")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the bundled demo data").set_defaults(func=cmd_demo)

    admin = sub.add_parser("create-admin", help="create an organiser account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="平台管理员")
    admin.add_argument("--password", help="prompted for when omitted")
    admin.set_defaults(func=cmd_create_admin)

    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the keyed hash chain, and its head against the last anchor")
    verify.add_argument("--anchor", help="anchor file (JSON lines); default <data>/audit-anchors.jsonl if present")
    verify.set_defaults(func=cmd_audit_verify)
    anchor = audit_sub.add_parser("anchor", help="append the chain's head (seq, count, hash, time) to an anchor file")
    anchor.add_argument("--out", help="anchor file to append to; default <data>/audit-anchors.jsonl")
    anchor.set_defaults(func=cmd_audit_anchor)

    mail = sub.add_parser("send-mail", help="deliver queued mail from the outbox")
    mail.add_argument("--limit", type=int, default=500)
    mail.set_defaults(func=cmd_send_mail)

    saving = sub.add_parser("backup", help="write the database, attachments and data folder to one archive")
    saving.add_argument("path", type=Path, help="the archive to create (a tar file)")
    saving.set_defaults(func=cmd_backup)
    restoring = sub.add_parser("restore", help="bring back an archive made by `challenge backup`")
    restoring.add_argument("path", type=Path)
    restoring.add_argument("--force", action="store_true",
                           help="replace a database and storage that already hold data")
    restoring.set_defaults(func=cmd_restore)

    # Each area may add subcommands in challenge/<area>/commands.py: register(subparsers, with_orm).
    for area in AREAS_WITH_COMMANDS:
        importlib.import_module(f"challenge.{area}.commands").register(sub, _with_orm)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
