"""`challenge verify-results CHALLENGE_ID`: the review ranking recomputed from the raw scores
(reviews area), and the scores behind each published decision checked against the SHA-256 its
notice carries."""

import asyncio

from challenge.results import digest
from challenge.results.models import LIVE_NOTICE_STATES, Notice
from challenge.reviews import commands as review_commands
from challenge.web.i18n import set_locale


async def verify_results(challenge_id: int, out=print) -> int:
    """0 when the rankings agree and every standing notice's scores are those decided; 1 on any
    difference; 2 when the challenge does not exist."""
    ranking = await review_commands.verify_results(challenge_id, out)
    if ranking == 2:
        return 2
    notices = await Notice.filter(challenge_id=challenge_id, status__in=list(LIVE_NOTICE_STATES)) \
        .select_related("decision").order_by("id")
    changed = 0
    for notice in notices:
        decision = notice.decision
        now = await digest.panel_scores(decision.panel_id)
        if now.sha256 == decision.scores_sha256:
            out(f"notice {notice.id} (panel {decision.panel_id}, decision {decision.id}): "
                f"{now.count} scores, sha256 {now.sha256}: OK")
            continue
        changed += 1
        out(f"notice {notice.id} (panel {decision.panel_id}, decision {decision.id}): scores DIFFER from those "
            f"decided: sha256 {decision.scores_sha256} ({decision.scores_count} scores) at the decision, "
            f"{now.sha256} ({now.count} scores) now")
    if changed:
        out(f"challenge {challenge_id}: scores DIFFER from the published decision ({changed} notice(s))")
        return 1
    if notices:
        out(f"challenge {challenge_id}: scores match the published decision(s)")
    return ranking


def register(subparsers, with_orm) -> None:
    verify = subparsers.add_parser(
        "verify-results",
        help="recompute a challenge's review ranking from the raw scores and check them against its notices")
    verify.add_argument("challenge_id", type=int)

    def cmd_verify(args, settings) -> int:
        set_locale("zh_CN")
        return asyncio.run(with_orm(settings, lambda: verify_results(args.challenge_id)))

    verify.set_defaults(func=cmd_verify)
