"""The delivery area's part of the console commands: `challenge remind` also reminds teams of
milestones due and organisers of overdue ones, and `challenge verify-receipts` also checks the
receipts of stage deliverables, progress reports and acceptance reports. No command of its own."""

from challenge.bids import commands as bid_commands
from challenge.reviews import commands as review_commands


async def remind_milestones(settings, out=print) -> None:
    from challenge.delivery.reminders import send_milestone_reminders  # noqa: PLC0415 - keeps `--help` light

    team, office = await send_milestone_reminders(days=settings.milestone_reminder_days)
    out(f"sent {team} reminder(s) of milestones due within {settings.milestone_reminder_days} days to teams "
        f"and {office} reminder(s) of overdue milestones to organisers")


async def verify_receipts() -> tuple[str, int, list[str]]:
    from challenge.delivery.receipts import verify_all_versions  # noqa: PLC0415

    checked, broken = await verify_all_versions()
    return "delivery", checked, [f"{v.kind} {v.owner_id} version {v.version} (receipt {v.sha256})" for v in broken]


def register(subparsers, with_orm) -> None:
    review_commands.REMINDERS.append(remind_milestones)
    bid_commands.RECEIPT_CHECKS.append(verify_receipts)
