"""Results: the decision on a concluded panel, the public notice and its period, the announcement.

`set_notice_status()` is the only writer of `Notice.status`. The challenge's status changes
through `challenges.services.set_challenge_status` (reviewing → notice → announced, and back to
reviewing when an objection is upheld), a bid's through `bids.services.set_bid_status`, a stage
gate through `reviews.stages.apply_stage_gate`. Objections are in `results.objections`.

A result notice settles a challenge; so does the notice of a horse race's last stage gate (its
teams that go through are the winners). Areas above react to an announcement through
`ANNOUNCEMENT_HOOKS` (the delivery area makes each winner's project).
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import current_head, record
from challenge.bids.models import RECEIVED_BID_STATES, Bid, BidPartner, BidStatus
from challenge.bids.services import set_bid_status
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism, Stage
from challenge.challenges.services import set_challenge_status
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.follow.services import notify_followers
from challenge.mail.services import notify
from challenge.results import digest, workdays
from challenge.results.models import (
    LIVE_NOTICE_STATES,
    NOTICE_TRANSITIONS,
    Decision,
    DecisionEntry,
    Notice,
    NoticeKind,
    NoticeStatus,
    Objection,
    ObjectionStatus,
)
from challenge.reviews import panels, stages
from challenge.reviews import services as reviews
from challenge.reviews.models import RESULT_PURPOSES, Panel, PanelStatus, ReviewOpinion
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime, now_utc, to_beijing

REASON_MAX = 2000
ANNOUNCEMENT_MAX = 5000
LATEST_START_DAYS = 90
# Called inside the announcement's transaction, after the bids are settled, by areas above this
# one: `await hook(notice=..., challenge=..., winner_ids=[bid ids], actor=..., now=...)`.
ANNOUNCEMENT_HOOKS: list = []


def _check_organiser(actor: User) -> None:
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以进行此操作"))


def notice_link(notice: Notice) -> str:
    return f"/results/notices/{notice.id}"


# -- what a decision starts from ----------------------------------------------------------------

@dataclass
class BasisRow:
    """A bid of the panel as the decision form shows it: ranking, recommendation, consortium."""

    bid: Bid
    rank: int
    score: Decimal | None
    in_top: bool
    recommended: bool
    partners: list[str]


async def recommended_ids(panel: Panel) -> set[int]:
    opinion = await ReviewOpinion.get_or_none(panel_id=panel.id)
    if opinion is None:
        return set()
    return set(await opinion.recommended.all().values_list("id", flat=True))


async def partner_names(bid_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {bid_id: [] for bid_id in bid_ids}
    for bid_id, name in await BidPartner.filter(bid_id__in=bid_ids or [0]).order_by("bid_id", "position", "id") \
            .values_list("bid_id", "name"):
        names[bid_id].append(name)
    return names


async def decision_basis(panel: Panel) -> list[BasisRow]:
    """The panel's ranking with its first N (winners, or teams to go on) and the recommended bids."""
    challenge = await Challenge.get(id=panel.challenge_id)
    stage = await Stage.get_or_none(id=panel.stage_id) if panel.stage_id else None
    ranked = await reviews.ranking(panel=panel, aggregation_rule=challenge.aggregation)
    limit = panels.recommend_limit(challenge, stage)
    recommended = await recommended_ids(panel)
    ids = [row.bid_id for row in ranked]
    bids = {b.id: b for b in await Bid.filter(id__in=ids or [0]).select_related("lead_org")}
    partners = await partner_names(ids)
    return [BasisRow(bid=bids[row.bid_id], rank=row.rank, score=row.score_display,
                     in_top=row.score is not None and row.rank <= limit, recommended=row.bid_id in recommended,
                     partners=partners[row.bid_id])
            for row in ranked]


def default_selection(rows: list[BasisRow]) -> dict[int, bool]:
    """The panel's recommendation, or the first N of the ranking when the panel recommended nobody."""
    if any(row.recommended for row in rows):
        return {row.bid.id: row.recommended for row in rows}
    return {row.bid.id: row.in_top for row in rows}


async def latest_decision(panel: Panel) -> Decision | None:
    return await Decision.filter(panel_id=panel.id).order_by("-revision").first()


async def notice_of(decision: Decision | None) -> Notice | None:
    if decision is None:
        return None
    return await Notice.get_or_none(decision_id=decision.id)


# -- recording the decision ---------------------------------------------------------------------

def _decision_errors(rows: list[BasisRow], selected: dict[int, bool], reasons: dict[int, str]) -> dict[str, str]:
    if set(selected) != {row.bid.id for row in rows}:
        return {"selected": _("提交的数据已过期，请刷新页面后重试")}
    errors = {}
    if not any(selected.values()):
        errors["selected"] = _("请至少确定一个团队")
    for row in rows:
        reason = reasons.get(row.bid.id, "")
        if _departs(row, selected[row.bid.id]) and not reason:
            errors[f"reason-{row.bid.id}"] = _("第 %(rank)s 名与排名或专家组推荐不一致，请写明理由（将在公示中公开）",
                                               rank=row.rank)
        elif len(reason) > REASON_MAX:
            errors[f"reason-{row.bid.id}"] = _("理由不能超过 %(n)s 个字", n=REASON_MAX)
    return errors


async def record_decision(*, panel: Panel, actor: User, selected: dict[int, bool], reasons: dict[int, str],
                          now: datetime | None = None) -> Decision:
    """Record (or, while it is not published, rewrite) the decision on a concluded panel's bids.

    `selected`: bid id -> proposed (goes on, for a stage) or not, for every bid of the panel;
    `reasons`: bid id -> the written reason, required wherever the choice departs from the
    first N of the ranking or from the panel's recommendation. Refused while the panel has not
    concluded and while the latest decision stands on a notice (open or announced); after an
    upheld objection the decision is a new revision. The raw scores' digest is kept with it.
    Audit entry `decision.record`.
    """
    _check_organiser(actor)
    now = now or now_utc()
    if panel.purpose not in RESULT_PURPOSES:
        raise InvalidTransition(_("中期评估和验收的结论在攻关项目中作出，不经公示"))
    if panel.status != PanelStatus.CONCLUDED:
        raise InvalidTransition(_("专家组尚未形成意见，暂不能作出评审结果"))
    _check_unpublished(await notice_of(await latest_decision(panel)))
    rows = await decision_basis(panel)
    reasons = {bid_id: text.strip() for bid_id, text in reasons.items()}
    errors = _decision_errors(rows, selected, reasons)
    if errors:
        raise DomainError(_("评审结果未保存，请先解决以下问题"), errors=errors)
    scores = await digest.panel_scores(panel.id)
    try:
        async with in_transaction():
            decision = await _writable_decision(panel, actor, scores, now)
            await DecisionEntry.bulk_create([
                DecisionEntry(decision_id=decision.id, bid_id=row.bid.id, rank=row.rank, score=row.score,
                              in_top=row.in_top, recommended=row.recommended, selected=selected[row.bid.id],
                              reason=reasons.get(row.bid.id, "") if _departs(row, selected[row.bid.id]) else "")
                for row in rows
            ])
            await record(actor=actor, action="decision.record", obj=decision,
                         after={"panel_id": panel.id, "revision": decision.revision,
                                "selected": sorted(b for b, chosen in selected.items() if chosen),
                                "departures": {str(row.bid.id): reasons.get(row.bid.id, "") for row in rows
                                               if _departs(row, selected[row.bid.id])},
                                "scores_sha256": scores.sha256})
    except IntegrityError:
        raise InvalidTransition(_("评审结果刚刚被其他人修改，请刷新页面后重试")) from None
    return decision


def _check_unpublished(notice: Notice | None) -> None:
    if notice is not None and notice.status in LIVE_NOTICE_STATES:
        raise InvalidTransition(_("评审结果已公示，不能再修改；如有异议成立，可重新作出评审结果"))


def _departs(row: BasisRow, chosen: bool) -> bool:
    return chosen != row.in_top or chosen != row.recommended


async def _writable_decision(panel: Panel, actor: User, scores: digest.ScoresDigest, now: datetime) -> Decision:
    """Inside the transaction: the unpublished latest decision emptied, or a new revision."""
    latest = await latest_decision(panel)
    notice = await notice_of(latest)
    _check_unpublished(notice)
    if latest is not None and notice is None:
        latest.scores_sha256, latest.scores_count = scores.sha256, scores.count
        latest.recorded_by, latest.recorded_at = actor, now
        await latest.save()
        await DecisionEntry.filter(decision_id=latest.id).delete()
        return latest
    return await Decision.create(panel_id=panel.id, challenge_id=panel.challenge_id, stage_id=panel.stage_id,
                                 revision=(latest.revision + 1) if latest else 1, scores_sha256=scores.sha256,
                                 scores_count=scores.count, recorded_by=actor, recorded_at=now)


# -- the notice ---------------------------------------------------------------------------------

def default_start(now: datetime) -> date:
    """A notice published today starts on the next working day."""
    return workdays.next_working_day(to_beijing(now).date())


def period_errors(*, working_days: int | None, starts_on: date | None, now: datetime) -> dict[str, str]:
    errors = {}
    if working_days is None or not 1 <= working_days <= workdays.MAX_WORKING_DAYS:
        errors["working_days"] = _("公示期为 1 至 %(n)s 个工作日", n=workdays.MAX_WORKING_DAYS)
    today = to_beijing(now).date()
    if starts_on is None or starts_on < today:
        errors["starts_on"] = _("公示开始日期不能早于今天")
    elif starts_on > today + timedelta(days=LATEST_START_DAYS):
        errors["starts_on"] = _("公示开始日期不能晚于 %(n)s 天之后", n=LATEST_START_DAYS)
    return errors


async def publish_notice(*, decision: Decision, actor: User, working_days: int | None, starts_on: date | None,
                         now: datetime | None = None) -> Notice:
    """Publish the notice (公示) of a decision: the proposed winners (or the teams to go on at a
    stage gate), a period of `working_days` working days from `starts_on`, and how to object.

    Refused (nothing changed) for a decision that is not the panel's latest or already has a
    notice, while another notice of the same challenge and stage stands, when a score or the
    panel's recommendation changed since the decision, and for a period out of bounds. A revised
    notice (after an upheld objection) replaces the withdrawn one and counts its own revision.
    Side effects, in one transaction: the challenge moves reviewing → notice (for a stage: the last
    stage of a race still in review);
    audit entry `notice.publish`; each bidder of the decision is told its outcome and the end of
    the period (inbox and mail, in the recipient's language); the challenge's followers get a mail.
    """
    _check_organiser(actor)
    now = now or now_utc()
    errors = period_errors(working_days=working_days, starts_on=starts_on, now=now)
    if errors:
        raise DomainError(_("公示未发布，请先解决以下问题"), errors=errors)
    panel = await Panel.get(id=decision.panel_id)
    await _check_publishable(decision, panel)
    period = workdays.notice_period(starts_on, working_days)
    kind = NoticeKind.STAGE if decision.stage_id else NoticeKind.RESULT
    async with in_transaction():
        challenge = await Challenge.filter(id=decision.challenge_id).select_for_update().get()
        standing = await Notice.filter(challenge_id=challenge.id, stage_id=decision.stage_id, kind=kind)
        if any(n.status in LIVE_NOTICE_STATES for n in standing):
            raise InvalidTransition(_("该榜单（阶段）已有公示，不能重复发布"))
        withdrawn = [n for n in standing if n.status == NoticeStatus.SUPERSEDED]
        replaces = max(withdrawn, key=lambda n: n.revision) if withdrawn else None
        try:
            notice = await Notice.create(
                kind=kind, challenge=challenge, stage_id=decision.stage_id, decision=decision,
                revision=(replaces.revision + 1) if replaces else 1, replaces=replaces, working_days=working_days,
                starts_on=period.first_day, ends_on=period.last_day, ends_at=period.ends_at, published_by=actor,
                published_at=now)
        except IntegrityError:
            raise InvalidTransition(_("该评审结果已经公示")) from None
        if kind == NoticeKind.RESULT or (challenge.status == ChallengeStatus.REVIEWING
                                         and await settles_challenge(notice)):
            await set_challenge_status(challenge=challenge, status=ChallengeStatus.NOTICE, actor=actor, now=now)
        await record(actor=actor, action="notice.publish", obj=notice,
                     after={"kind": kind, "challenge_id": challenge.id, "stage_id": decision.stage_id,
                            "decision_id": decision.id, "revision": notice.revision,
                            "working_days": working_days, "starts_on": period.first_day,
                            "ends_at": period.ends_at, "scores_sha256": decision.scores_sha256})
        notice.published_head = await _audit_head()
        await notice.save(update_fields=["published_head"])
        await _tell_bidders_of_notice(notice, challenge, decision)
        await notify_followers(challenge=challenge, link=notice_link(notice),
                               subject=lambda: _("评审结果公示：%(title)s", title=challenge.title),
                               body=lambda: _("公示期至 %(end)s。公示名单和异议方式见公示页面。",
                                              end=format_datetime(notice.ends_at)))
    return notice


async def _check_publishable(decision: Decision, panel: Panel) -> None:
    latest = await latest_decision(panel)
    if latest is None or latest.id != decision.id:
        raise InvalidTransition(_("该评审结果已被新的评审结果取代"))
    if await Notice.exists(decision_id=decision.id):
        raise InvalidTransition(_("该评审结果已经公示"))
    if panel.status != PanelStatus.CONCLUDED:
        raise InvalidTransition(_("专家组正在重新评审，请待组长形成意见后重新作出评审结果"))
    if (await digest.panel_scores(panel.id)).sha256 != decision.scores_sha256:
        raise DomainError(_("作出评审结果后评分发生了变化，请重新作出评审结果"))
    entries = await DecisionEntry.filter(decision_id=decision.id)
    if {e.bid_id for e in entries if e.recommended} != await recommended_ids(panel):
        raise DomainError(_("作出评审结果后专家组推荐发生了变化，请重新作出评审结果"))


async def _lead_users(bid_ids: list[int]) -> dict[int, list[User]]:
    """The active users of each bid's lead organisation."""
    bids = dict(await Bid.filter(id__in=bid_ids or [0]).values_list("id", "lead_org_id"))
    users: dict[int, list[User]] = {bid_id: [] for bid_id in bid_ids}
    for user in await User.filter(organisation_id__in=list(set(bids.values())) or [0], is_active=True):
        for bid_id, org_id in bids.items():
            if org_id == user.organisation_id:
                users[bid_id].append(user)
    return users


async def _tell_bidders_of_notice(notice: Notice, challenge: Challenge, decision: Decision) -> None:
    entries = await DecisionEntry.filter(decision_id=decision.id)
    recipients = await _lead_users([e.bid_id for e in entries])
    for entry in entries:
        def body(entry=entry) -> str:
            if entry.selected:
                outcome = _("您单位的申报列入拟揭榜名单（排名第 %(rank)s）。", rank=entry.rank) \
                    if notice.kind == NoticeKind.RESULT else _("您单位的团队拟晋级（排名第 %(rank)s）。", rank=entry.rank)
            else:
                outcome = _("您单位的申报未列入拟揭榜名单（排名第 %(rank)s）。", rank=entry.rank) \
                    if notice.kind == NoticeKind.RESULT else _("您单位的团队拟不晋级（排名第 %(rank)s）。", rank=entry.rank)
            return outcome + _("公示期至 %(end)s。如有异议，请在公示期内登录平台，在公示页面提出。",
                               end=format_datetime(notice.ends_at))

        for user in recipients[entry.bid_id]:
            await notify(user=user, subject=lambda: _("评审结果公示：%(title)s", title=challenge.title),
                         body=body, link=notice_link(notice))


async def set_notice_status(*, notice: Notice, status: NoticeStatus, actor: User | None, note: str = "",
                            now: datetime | None = None) -> Notice:
    """The only writer of `Notice.status`: open → announced | superseded (NOTICE_TRANSITIONS).

    Call it inside the caller's transaction. Side effects: `closed_at`/`closed_by`; the audit
    entry `notice.<status>`. Notifications belong to the caller (their wording depends on why).
    """
    status = NoticeStatus(status)
    if status not in NOTICE_TRANSITIONS[notice.status]:
        raise InvalidTransition(_("公示当前状态为“%(a)s”，不能变更为“%(b)s”", a=notice.status.label, b=status.label))
    before = {"status": notice.status.value}
    notice.status, notice.closed_at, notice.closed_by = status, now or now_utc(), actor
    await notice.save(update_fields=["status", "closed_at", "closed_by_id"])
    await record(actor=actor, action=f"notice.{status.value}", obj=notice, before=before,
                 after={"status": status.value, "challenge_id": notice.challenge_id, "stage_id": notice.stage_id},
                 note=note)
    return notice


# -- the announcement ---------------------------------------------------------------------------

async def open_objections(notice: Notice) -> int:
    return await Objection.filter(notice_id=notice.id, status=ObjectionStatus.OPEN).count()


def announce_problem(notice: Notice, open_count: int, now: datetime) -> str:
    """Why the result cannot be announced now ("" when it can); the page and the service share it."""
    if notice.status != NoticeStatus.OPEN:
        return _("公示当前状态为“%(s)s”，不能发布结果公告", s=notice.status.label)
    if not notice.period_over(now):
        return _("公示期至 %(end)s，期满后方可发布结果公告", end=format_datetime(notice.ends_at))
    if open_count:
        return _("还有 %(n)s 件异议尚未处理，处理完毕后方可发布结果公告", n=open_count)
    return ""


async def announce(*, notice: Notice, actor: User, text: str = "", now: datetime | None = None) -> Notice:
    """Publish the result (结果公告) of a notice whose period is over and whose objections are answered.

    For a challenge: the challenge moves notice → announced; each bid of the decision becomes
    `winner` (揭榜挂帅) or `advanced` (a 赛马 track: in the race), or `not selected`, through the
    bids area's status writer, which audits and tells the team in its language; the challenge's
    other bidders are told the result is out. For a horse-race stage: the stage gate applies the
    decision (at the last stage the teams that go through are the winners, and a race in notice
    moves to announced). Then the notice is `announced` (audit `notice.announced`) and the
    `ANNOUNCEMENT_HOOKS` run with the winners, in the same transaction; the challenge's followers
    get a mail.
    """
    _check_organiser(actor)
    now = now or now_utc()
    text = text.strip()
    if len(text) > ANNOUNCEMENT_MAX:
        raise DomainError(_("公告说明不能超过 %(n)s 个字", n=ANNOUNCEMENT_MAX), field="announcement")
    async with in_transaction():
        locked = await Notice.filter(id=notice.id).select_for_update().get()
        problem = announce_problem(locked, await open_objections(locked), now)
        if problem:
            raise InvalidTransition(problem)
        decision = await Decision.get(id=locked.decision_id)
        entries = await DecisionEntry.filter(decision_id=decision.id).order_by("rank")
        challenge = await Challenge.get(id=locked.challenge_id)
        selected = [e.bid_id for e in entries if e.selected]
        settles = await settles_challenge(locked)
        if locked.kind == NoticeKind.STAGE:
            panel = await Panel.get(id=decision.panel_id)
            await stages.apply_stage_gate(panel=panel, actor=actor, advancing=set(selected),
                                          reasons={e.bid_id: e.reason for e in entries if e.reason})
            if settles and challenge.status == ChallengeStatus.NOTICE:
                await set_challenge_status(challenge=challenge, status=ChallengeStatus.ANNOUNCED, actor=actor,
                                           now=now)
        else:
            await set_challenge_status(challenge=challenge, status=ChallengeStatus.ANNOUNCED, actor=actor, now=now)
            await _settle_bids(challenge, entries, locked, actor, now)
        locked.announcement = text
        await locked.save(update_fields=["announcement"])
        await set_notice_status(notice=locked, status=NoticeStatus.ANNOUNCED, actor=actor, now=now)
        winners = selected if settles and (locked.kind == NoticeKind.STAGE
                                           or challenge.mechanism == Mechanism.OPEN_CALL) else []
        for hook in ANNOUNCEMENT_HOOKS:
            await hook(notice=locked, challenge=challenge, winner_ids=winners, actor=actor, now=now)
        locked.announced_head = await _audit_head()
        await locked.save(update_fields=["announced_head"])
        await notify_followers(challenge=challenge, link=notice_link(locked) + "#announcement",
                               subject=lambda: _("结果公告：%(title)s", title=challenge.title),
                               body=lambda: text or _("结果公告已发布，详见公告页面。"))
    return locked


async def settles_challenge(notice: Notice) -> bool:
    """A result notice, or the notice of a horse race's last stage gate: its announcement names
    the challenge's winners."""
    if notice.kind == NoticeKind.RESULT:
        return True
    return await panels.is_last_stage(await Stage.get(id=notice.stage_id))


async def _audit_head() -> dict:
    """The audit chain's head, taken after the step's own entry: what the notice prints."""
    return asdict(await current_head())


async def _settle_bids(challenge: Challenge, entries: list[DecisionEntry], notice: Notice, actor: User,
                       now: datetime) -> None:
    chosen = BidStatus.ADVANCED if challenge.mechanism == Mechanism.HORSE_RACE else BidStatus.WINNER
    for entry in entries:
        bid = await Bid.select_for_update().get(id=entry.bid_id)
        status = chosen if entry.selected else BidStatus.NOT_SELECTED

        def body(entry=entry, status=status) -> str:
            if status == BidStatus.WINNER:
                text = _("经评审、公示，确定为“%(title)s”的揭榜单位。请按承诺组织实施。", title=challenge.title)
            elif status == BidStatus.ADVANCED:
                text = _("经评审、公示，入围“%(title)s”赛道，请按阶段要求开展攻关。", title=challenge.title)
            else:
                text = _("经评审、公示，本申报未入选“%(title)s”。感谢参与。", title=challenge.title)
            return text + ("\n" + _("说明：%(reason)s", reason=entry.reason) if entry.reason else "")

        await set_bid_status(bid=bid, status=status, actor=actor, reason=entry.reason, now=now,
                             action=f"announce_{status.value}", body=body)
    decided = [e.bid_id for e in entries]
    others = await Bid.filter(challenge_id=challenge.id, status__in=list(RECEIVED_BID_STATES)) \
        .exclude(id__in=decided or [0]).values_list("id", flat=True)
    recipients = await _lead_users(list(others))
    for users in recipients.values():
        for user in users:
            await notify(user=user, subject=lambda: _("结果公告：%(title)s", title=challenge.title),
                         body=lambda: _("“%(title)s”的评审结果已公告，请在结果公告页面查看。", title=challenge.title),
                         link=notice_link(notice))


def outcome_labels(*, stage: bool, horse_race: bool, final: bool = False) -> dict[bool, str]:
    """The words for a bid chosen or not: proposed winner, in the race, going on at a stage, or
    winning the race at its last stage."""
    if stage and final:
        return {True: _("胜出"), False: _("未胜出")}
    if stage:
        return {True: _("晋级"), False: _("不晋级")}
    if horse_race:
        return {True: _("入围"), False: _("未入围")}
    return {True: _("拟揭榜"), False: _("未入选")}
