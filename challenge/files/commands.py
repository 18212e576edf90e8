"""`challenge storage check | migrate --to s3 | cleanup`: attachments' objects against their records."""

import asyncio
from datetime import timedelta

from challenge.files import maintenance
from challenge.files.storage import make_storage

BACKENDS = ("local", "s3")


async def _with_storages(settings, with_orm, work, *backends: str):
    storages = [make_storage(settings.with_overrides(storage_backend=b)) for b in backends]

    async def run():
        try:
            return await work(*storages)
        finally:
            for storage in storages:
                await storage.close()

    return await with_orm(settings, run)


def cmd_check(args, settings, with_orm) -> int:
    report = asyncio.run(_with_storages(settings, with_orm, maintenance.check, settings.storage_backend))
    print(f"{report.checked} stored file(s) checked in {settings.storage_backend} storage, "
          f"{len(report.problems)} problem(s)")
    return 1 if report.problems else 0


def cmd_migrate(args, settings, with_orm) -> int:
    source = next(backend for backend in BACKENDS if backend != args.to)
    report = asyncio.run(_with_storages(settings, with_orm, maintenance.copy_all, source, args.to))
    print(f"{report.checked} stored file(s): {report.copied} copied from {source} to {args.to} and verified, "
          f"{report.skipped} already there, {len(report.problems)} problem(s)")
    if not report.problems:
        print(f"every file is now in {args.to} storage: set CHALLENGE_STORAGE={args.to} on every app server")
    return 1 if report.problems else 0


def cmd_cleanup(args, settings, with_orm) -> int:
    older_than = timedelta(hours=args.older_than_hours)

    async def work(storage):
        return await maintenance.cleanup(storage, older_than)

    unfinished, orphans = asyncio.run(_with_storages(settings, with_orm, work, settings.storage_backend))
    print(f"removed {unfinished} unfinished upload(s) and {orphans} orphaned object(s)")
    return 0


def register(subparsers, with_orm) -> None:
    storage = subparsers.add_parser("storage", help="attachment storage: check, migrate, clean up")
    commands = storage.add_subparsers(dest="storage_command", required=True)
    commands.add_parser(
        "check", help="read back every stored file and report any that is missing or differs (exit 1)",
    ).set_defaults(func=lambda args, settings: cmd_check(args, settings, with_orm))
    migrate = commands.add_parser("migrate", help="copy every stored file to the other storage, verified, resumable")
    migrate.add_argument("--to", choices=BACKENDS, required=True)
    migrate.set_defaults(func=lambda args, settings: cmd_migrate(args, settings, with_orm))
    cleanup = commands.add_parser(
        "cleanup", help="remove unfinished uploads of killed processes and files no record refers to")
    cleanup.add_argument("--older-than-hours", type=float, default=24.0,
                         help="only touch unrecorded files and S3 uploads older than this (default 24)")
    cleanup.set_defaults(func=lambda args, settings: cmd_cleanup(args, settings, with_orm))
