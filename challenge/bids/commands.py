"""`challenge verify-receipts`: recompute the SHA-256 of every stored bid version (回执核验)."""

import asyncio


def register(subparsers, with_orm) -> None:
    command = subparsers.add_parser("verify-receipts",
                                    help="check that every bid version still matches its receipt's SHA-256")
    command.set_defaults(func=lambda args, settings: _verify(settings, with_orm))


def _verify(settings, with_orm) -> int:
    from challenge.bids.services import verify_all_versions  # noqa: PLC0415 - keeps `challenge --help` light

    checked, broken = asyncio.run(with_orm(settings, verify_all_versions))
    for version in broken:
        print(f"MISMATCH: bid {version.bid_id} version {version.version} (receipt {version.sha256})")
    print(f"{checked} bid version(s) checked, {len(broken)} mismatch(es)")
    return 1 if broken else 0
