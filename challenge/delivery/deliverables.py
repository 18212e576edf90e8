"""Horse-race stage deliverables (阶段交付物): the teams still in the race hand in each stage's
report and files before the stage's deadline; each submission is a version with a receipt.

The deadline is checked inside the transaction with the time of the request's processing: a form
opened before the deadline and sent after it is refused, and nothing is saved. A stage's panel
(reviews area) reviews the latest version each team handed in.
"""

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.bids.models import Bid
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism, Stage
from challenge.delivery import permissions, receipts
from challenge.delivery.models import DeliveryVersion, StageDeliverable, VersionKind
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.files.uploads import UploadedFile
from challenge.mail.services import notify
from challenge.reviews.models import StageResult
from challenge.reviews.panels import RACE_BID_STATES
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime, now_utc

REPORT_MAX = 20000
FILE_CATEGORY = "report"
# A race's teams work on their stages once the bid window is over, until the challenge is settled.
RACE_CHALLENGE_STATES = {ChallengeStatus.CLOSED, ChallengeStatus.REVIEWING, ChallengeStatus.NOTICE,
                         ChallengeStatus.ANNOUNCED, ChallengeStatus.DELIVERING}


class DeadlinePassed(DomainError):
    """The stage's deadline has passed: nothing was saved."""


def is_racing(bid: Bid) -> bool:
    return bid.status in RACE_BID_STATES


async def refusal(*, challenge: Challenge, stage: Stage, bid: Bid, now: datetime) -> DomainError | None:
    """Why this team may not hand in this stage's deliverable now (None: it may)."""
    if challenge.mechanism != Mechanism.HORSE_RACE or stage.challenge_id != challenge.id \
            or bid.challenge_id != challenge.id:
        return InvalidTransition(_("该阶段不属于本赛道"))
    if challenge.shown_status(now) not in RACE_CHALLENGE_STATES:
        return InvalidTransition(_("揭榜截止后，仍在赛程中的团队方可提交阶段交付物"))
    if not is_racing(bid):
        return InvalidTransition(_("该团队已不在赛程中（%(status)s），不能提交阶段交付物", status=bid.status.label))
    if await StageResult.filter(stage_id=stage.id).exists():
        return DeadlinePassed(_("“%(stage)s”阶段的晋级结果已公告，不再接受交付物", stage=stage.name))
    if now >= stage.due_at:
        return DeadlinePassed(_("“%(stage)s”阶段交付物已于 %(due)s 截止，服务器在截止后收到本次提交，未保存任何内容。",
                                stage=stage.name, due=format_datetime(stage.due_at)))
    return None


async def submit_deliverable(*, bid: Bid, stage: Stage, actor: User, report: str,
                             uploads: list[UploadedFile] = (), remove_ids: list[int] = (), storage=None,
                             now: datetime | None = None) -> DeliveryVersion:
    """Hand in (or hand in again) the team's deliverable for `stage`: the report, the files kept
    and the new ones, frozen as the next version with its receipt.

    Refused, with nothing saved and the uploads discarded, for anyone but the team, a team out of
    the race, a stage whose gate is decided, after the stage's deadline (`DeadlinePassed`), and
    without a report. Side effects, in one transaction: the audit entry `deliverable.submit` with
    the receipt's SHA-256, and the team told (inbox and mail) with the receipt.
    """
    uploads = [(FILE_CATEGORY, upload) for upload in uploads]
    now = now or now_utc()
    try:
        await _precheck(bid=bid, stage=stage, actor=actor, report=report, now=now)
    except DomainError:
        await receipts.discard(uploads)
        raise
    files = await receipts.store(storage, uploads)
    async with in_transaction():
        deliverable = await _locked_deliverable(stage, bid)
        locked_bid = await Bid.select_for_update().get(id=bid.id)
        problem = await refusal(challenge=await Challenge.get(id=bid.challenge_id), stage=stage, bid=locked_bid,
                                now=now)
        if problem is not None:
            raise problem
        attachments = await receipts.replace_files(deliverable, actor, files, list(remove_ids))
        deliverable.report = report.strip()
        version = await receipts.freeze(kind=VersionKind.DELIVERABLE, owner=deliverable, actor=actor, now=now,
                                        content=await _content(deliverable, stage, locked_bid, attachments))
        await deliverable.save(update_fields=["report", "current_version", "submitted_at"])
        await record(actor=actor, action="deliverable.submit", obj=deliverable,
                     after={"stage_id": stage.id, "bid_id": bid.id, "version": version.version,
                            "sha256": version.sha256})
        await _tell_team(locked_bid, stage, version)
    return version


async def _precheck(*, bid: Bid, stage: Stage, actor: User, report: str, now: datetime) -> None:
    if not permissions.is_team(actor, bid):
        raise PermissionDenied(_("只有本团队（牵头单位的揭榜方用户）可以提交阶段交付物"))
    problem = await refusal(challenge=await Challenge.get(id=bid.challenge_id), stage=stage, bid=bid, now=now)
    if problem is not None:
        raise problem
    if not report.strip():
        raise DomainError(_("请填写阶段报告"), field="report")
    if len(report) > REPORT_MAX:
        raise DomainError(_("阶段报告不能超过 %(n)s 个字", n=REPORT_MAX), field="report")


async def _locked_deliverable(stage: Stage, bid: Bid) -> StageDeliverable:
    existing = await StageDeliverable.filter(stage_id=stage.id, bid_id=bid.id).select_for_update().first()
    if existing is not None:
        return existing
    try:
        async with in_transaction():
            return await StageDeliverable.create(stage=stage, bid=bid)
    except IntegrityError:
        # The team's other tab created it a moment ago.
        return await StageDeliverable.filter(stage_id=stage.id, bid_id=bid.id).select_for_update().get()


async def _content(deliverable: StageDeliverable, stage: Stage, bid: Bid, attachments) -> dict:
    challenge = await Challenge.get(id=stage.challenge_id)
    return {
        "challenge": {"id": challenge.id, "title": challenge.title},
        "stage": {"id": stage.id, "name": stage.name, "position": stage.position,
                  "due_at": stage.due_at.isoformat(), "requirement": stage.deliverable},
        "bid": {"id": bid.id, "number": bid.number},
        "report": deliverable.report,
        "attachments": receipts.file_entries(attachments),
    }


async def _tell_team(bid: Bid, stage: Stage, version: DeliveryVersion) -> None:
    for user in await User.filter(organisation_id=bid.lead_org_id, is_active=True):
        await notify(
            user=user,
            subject=lambda: _("阶段交付物已提交：%(stage)s（第 %(v)s 版）", stage=stage.name, v=version.version),
            body=lambda: _("回执编号 %(number)s，提交时间 %(when)s，SHA-256：%(sha)s。截止前仍可修改后重新提交。",
                           number=version.receipt_number, when=format_datetime(version.submitted_at),
                           sha=version.sha256),
            link=f"/delivery/versions/{version.id}")
