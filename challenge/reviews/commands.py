"""Console subcommands of the review area: `challenge remind`, and the ranking check that
`challenge verify-results ID` (registered by the results area) runs first.

`challenge remind` sends the experts' review reminders, then those of the areas above, which
add theirs to `REMINDERS` (the delivery area: milestones): `await reminder(settings, out)`."""

import asyncio

from challenge.bids.models import Bid
from challenge.challenges.models import Challenge
from challenge.reviews import aggregation, services
from challenge.reviews.models import AssignmentStatus, Panel, PanelBid, Score
from challenge.web.i18n import set_locale


async def verify_results(challenge_id: int, out=print) -> int:
    """Recompute each panel's ranking in Python from the raw scores and compare with the SQL ranking.

    Returns 0 when they agree, 1 on any difference, 2 when the challenge does not exist.
    """
    challenge = await Challenge.get_or_none(id=challenge_id)
    if challenge is None:
        out(f"challenge {challenge_id} not found")
        return 2
    panels = await Panel.filter(challenge=challenge).order_by("id")
    if not panels:
        out(f"challenge {challenge_id}: no review panel, nothing to verify")
        return 0
    differences = 0
    for panel in panels:
        # A panel may score on its own rubric and rule (a catalogue candidate's technical evaluation).
        criteria = await services.criteria_for(panel)
        rule = panel.aggregation_rule(challenge)
        bid_ids = list(await PanelBid.filter(panel=panel).values_list("bid_id", flat=True))
        bids = dict(await Bid.filter(id__in=bid_ids).values_list("id", "submitted_at"))
        raw = [
            aggregation.RawScore(assignment_id=a, bid_id=b, criterion_id=c, value=v)
            for a, b, c, v in await Score.filter(
                assignment__panel_id=panel.id, assignment__status=AssignmentStatus.SUBMITTED,
            ).values_list("assignment_id", "assignment__bid_id", "criterion_id", "value")
        ]
        independent = aggregation.recompute(raw=raw, criteria=criteria, aggregation=rule, bids=bids)
        in_sql = [(row.bid_id, row.score) for row in await services.ranking(
            panel=panel, aggregation_rule=rule, criteria=criteria)]
        problems = compare_rankings(independent, in_sql)
        for problem in problems:
            out(f"panel {panel.id} {problem}")
        panel_differences = len(problems)
        scored = sum(1 for _bid, score in independent if score is not None)
        status = "OK" if not panel_differences else f"{panel_differences} DIFFERENCE(S)"
        out(f"panel {panel.id} ({panel.name}): {len(independent)} bids, {scored} scored, "
            f"{len(raw)} raw scores: {status}")
        differences += panel_differences
    if differences:
        out(f"challenge {challenge_id}: rankings DIFFER ({differences})")
        return 1
    out(f"challenge {challenge_id}: rankings agree")
    return 0


def compare_rankings(independent: list, in_sql: list) -> list[str]:
    """Every difference between two rankings given as [(bid id, score)], best first."""
    problems = []
    for position, (expected, actual) in enumerate(zip(independent, in_sql), start=1):
        if expected != actual:
            problems.append(f"rank {position}: recomputed bid {expected[0]} score {_show(expected[1])}, "
                            f"database ranking bid {actual[0]} score {_show(actual[1])}")
    if len(independent) != len(in_sql):
        problems.append(f"{len(independent)} bids recomputed, {len(in_sql)} in the database ranking")
    return problems


def _show(score) -> str:
    if score is None:
        return "none"
    return f"{float(score):.6f}"


REMINDERS: list = []


async def remind(settings, out=print) -> int:
    count = await services.send_reminders(actor=None, only_late=True)
    out(f"reminded {count} expert(s) with unfinished reviews due within "
        f"{services.REMIND_BEFORE_DUE_HOURS} hours or overdue")
    for reminder in REMINDERS:
        await reminder(settings, out)
    return 0


def register(subparsers, with_orm) -> None:
    reminder = subparsers.add_parser(
        "remind", help="remind experts whose reviews are late, teams of milestones due and organisers of overdue "
                       "ones (mail outbox; each reminder once)")

    def cmd_remind(args, settings) -> int:
        set_locale("zh_CN")
        return asyncio.run(with_orm(settings, lambda: remind(settings)))

    reminder.set_defaults(func=cmd_remind)
