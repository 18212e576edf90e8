"""`challenge close-expired`: close published challenges whose bid window has passed."""

import asyncio


def register(subparsers, with_orm) -> None:
    command = subparsers.add_parser("close-expired", help="close published challenges whose bid window has passed")
    command.set_defaults(func=lambda args, settings: _close_expired(settings, with_orm))


def _close_expired(settings, with_orm) -> int:
    from challenge.challenges.services import close_expired

    closed = asyncio.run(with_orm(settings, close_expired))
    for challenge in closed:
        print(f"closed challenge {challenge.id}: {challenge.title}")
    print(f"{len(closed)} challenge(s) closed")
    return 0
