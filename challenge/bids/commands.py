"""`challenge verify-receipts`: recompute the SHA-256 of every stored bid version (回执核验), and of
the versions of the areas above, which add theirs to `RECEIPT_CHECKS` (the delivery area: stage
deliverables, progress and acceptance reports): `await check() -> (name, checked, [mismatch lines])`."""

import asyncio

RECEIPT_CHECKS: list = []


def register(subparsers, with_orm) -> None:
    command = subparsers.add_parser("verify-receipts",
                                    help="check that every bid (and delivery) version still matches its receipt's SHA-256")
    command.set_defaults(func=lambda args, settings: _verify(settings, with_orm))


async def _check_all() -> list[tuple[str, int, list[str]]]:
    from challenge.bids.services import verify_all_versions  # noqa: PLC0415 - keeps `challenge --help` light

    checked, broken = await verify_all_versions()
    reports = [("bid", checked, [f"bid {v.bid_id} version {v.version} (receipt {v.sha256})" for v in broken])]
    for check in RECEIPT_CHECKS:
        reports.append(await check())
    return reports


def _verify(settings, with_orm) -> int:
    mismatches = 0
    for name, checked, broken in asyncio.run(with_orm(settings, _check_all)):
        for line in broken:
            print(f"MISMATCH: {line}")
        print(f"{checked} {name} version(s) checked, {len(broken)} mismatch(es)")
        mismatches += len(broken)
    return 1 if mismatches else 0
