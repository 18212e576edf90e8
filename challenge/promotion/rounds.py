"""Catalogue rounds (推广目录遴选): opening a round, candidates from accepted projects and from
published technology offers, screening, technical evaluation (技术评价) by a panel of the reviews
area, the catalogue notice (公示) with objections (results area), and publication into the catalogue.

`set_round_status()` is the only writer of `CatalogueRound.status` and `set_candidate_status()`
of `Candidate.status`; each writes its audit entry.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.bids.models import Bid
from challenge.catalog.models import Domain
from challenge.challenges.models import Aggregation, Challenge
from challenge.delivery import permissions as delivery_permissions
from challenge.delivery.models import AcceptanceReport, AchievedValue, Project, ProjectStatus
from challenge.enums import N_
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.promotion import catalogue
from challenge.promotion.models import (
    CANDIDATE_TRANSITIONS,
    ROUND_TRANSITIONS,
    Candidate,
    CandidateSource,
    CandidateStatus,
    CatalogueEntry,
    CatalogueRound,
    CatalogueVersion,
    ChangeKind,
    RoundStatus,
)
from challenge.results import objections, workdays
from challenge.results import services as results
from challenge.results.models import Notice, NoticeKind, NoticeStatus
from challenge.reviews import panels
from challenge.reviews import services as reviews
from challenge.reviews.models import Panel, PanelPurpose, PanelStatus
from challenge.supply import permissions as supply_permissions
from challenge.supply import services as supply_services
from challenge.supply.models import Offer, OfferParameter, OfferStatus
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime, now_utc

TITLE_MAX = 200
TEXT_MAX = 5000
MAX_PARAMETERS = 30

# The technical evaluation rubric (技术评价) a round states when it is created; names translated when shown.
EVALUATION_RUBRIC = [
    {"name": N_("技术先进性"), "weight": 25, "max_score": 100,
     "guidance": N_("与国内外同类技术相比的先进程度，关键指标的水平")},
    {"name": N_("技术成熟度"), "weight": 20, "max_score": 100,
     "guidance": N_("工程应用和示范情况，运行的稳定性与可靠性")},
    {"name": N_("适用性与推广潜力"), "weight": 20, "max_score": 100,
     "guidance": N_("适用的行业和场景范围，推广的条件与市场规模")},
    {"name": N_("经济性"), "weight": 20, "max_score": 100,
     "guidance": N_("投资与运行成本，投资回收期")},
    {"name": N_("环境效益"), "weight": 15, "max_score": 100,
     "guidance": N_("节能量、二氧化碳及污染物减排量")},
]


def _check_organiser(actor: User | None) -> None:
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以管理推广目录遴选"))


def round_link(round_: CatalogueRound) -> str:
    return f"/catalogue/rounds/{round_.id}"


# -- the state machines ---------------------------------------------------------------------------

async def set_round_status(*, round_: CatalogueRound, status: RoundStatus, actor: User | None,
                           note: str = "") -> CatalogueRound:
    """The only writer of `CatalogueRound.status` (ROUND_TRANSITIONS). Call it inside the caller's
    transaction. Side effects: `published_at` on publication; the audit entry `catalogue_round.<status>`."""
    if status not in ROUND_TRANSITIONS[round_.status]:
        raise InvalidTransition(_("遴选批次当前状态为“%(a)s”，不能变更为“%(b)s”", a=round_.status.label, b=status.label))
    before = {"status": round_.status.value}
    round_.status = status
    update = ["status"]
    if status == RoundStatus.PUBLISHED:
        round_.published_at = now_utc()
        update.append("published_at")
    await round_.save(update_fields=update)
    await record(actor=actor, action=f"catalogue_round.{status.value}", obj=round_, before=before,
                 after={"status": status.value}, note=note)
    return round_


async def set_candidate_status(*, candidate: Candidate, status: CandidateStatus, actor: User | None,
                               note: str = "") -> Candidate:
    """The only writer of `Candidate.status` (CANDIDATE_TRANSITIONS). Call it inside the caller's
    transaction. Side effects: the audit entry `catalogue_candidate.<status>` with the note."""
    if status not in CANDIDATE_TRANSITIONS[candidate.status]:
        raise InvalidTransition(_("候选技术当前状态为“%(a)s”，不能变更为“%(b)s”", a=candidate.status.label,
                                  b=status.label))
    before = {"status": candidate.status.value}
    candidate.status = status
    await candidate.save(update_fields=["status"])
    await record(actor=actor, action=f"catalogue_candidate.{status.value}", obj=candidate, before=before,
                 after={"status": status.value, "round_id": candidate.round_id}, note=note)
    return candidate


# -- the round ------------------------------------------------------------------------------------

async def create_round(*, actor: User, year: int | None, title: str, conditions: str, deadline: datetime | None,
                       domain_ids: list[int], rubric: list[dict] | None = None) -> CatalogueRound:
    """A round in draft, with its conditions and its technical evaluation rubric (the default one
    when not given: weights in percent summing to 100, each criterion scored out of 100). Audit
    `catalogue_round.create`."""
    _check_organiser(actor)
    title, conditions = title.strip(), conditions.strip()
    domains = await Domain.filter(id__in=domain_ids or [0], is_active=True)
    errors = {}
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = _("请填写年度（如 2026）")
    if not title:
        errors["title"] = _("请填写批次名称")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("不能超过 %(n)s 个字", n=TITLE_MAX)
    if not conditions:
        errors["conditions"] = _("请写明申报条件")
    elif len(conditions) > TEXT_MAX:
        errors["conditions"] = _("不能超过 %(n)s 个字", n=TEXT_MAX)
    if deadline is None:
        errors["deadline"] = _("请填写申报截止时间")
    if not domains or len(domains) != len(set(domain_ids)):
        errors["domains"] = _("请至少选择一个领域")
    rubric = EVALUATION_RUBRIC if rubric is None else rubric
    if not rubric:
        errors["rubric"] = _("请至少填写一项技术评价要素")
    elif sum(row["weight"] for row in rubric) != 100:
        errors["rubric"] = _("技术评价要素的权重合计须为 100，当前为 %(total)s", total=sum(r["weight"] for r in rubric))
    if errors:
        raise DomainError(_("遴选批次未保存，请先解决以下问题"), errors=errors)
    async with in_transaction():
        round_ = await CatalogueRound.create(year=year, title=title, conditions=conditions, deadline=deadline,
                                             rubric=rubric, created_by=actor)
        await round_.domains.add(*domains)
        await record(actor=actor, action="catalogue_round.create", obj=round_,
                     after={"year": year, "title": title, "deadline": deadline,
                            "domains": sorted(d.id for d in domains), "rubric": rubric})
    return round_


async def open_round(*, round_: CatalogueRound, actor: User, now: datetime | None = None) -> CatalogueRound:
    """Draft → open: applications are taken until the deadline."""
    _check_organiser(actor)
    if round_.deadline <= (now or now_utc()):
        raise InvalidTransition(_("申报截止时间已过，请先修改截止时间"))
    async with in_transaction():
        locked = await CatalogueRound.filter(id=round_.id).select_for_update().get()
        return await set_round_status(round_=locked, status=RoundStatus.OPEN, actor=actor)


async def start_evaluation(*, round_: CatalogueRound, actor: User) -> CatalogueRound:
    """Open → evaluating: no more applications; needs every candidate screened, one eligible."""
    _check_organiser(actor)
    async with in_transaction():
        locked = await CatalogueRound.filter(id=round_.id).select_for_update().get()
        statuses = await Candidate.filter(round_id=locked.id).values_list("status", flat=True)
        if CandidateStatus.PROPOSED in statuses:
            raise InvalidTransition(_("还有候选技术尚未初审"))
        if CandidateStatus.ELIGIBLE not in statuses:
            raise InvalidTransition(_("没有通过初审的候选技术，不能开始技术评价"))
        return await set_round_status(round_=locked, status=RoundStatus.EVALUATING, actor=actor)


# -- candidates -----------------------------------------------------------------------------------

async def accepted_projects(*, organisation_id: int | None = None) -> list[Project]:
    """Projects that passed acceptance (the lead organisation's only, when given), newest first."""
    query = Project.filter(status=ProjectStatus.ACCEPTED).select_related("challenge", "bid", "bid__lead_org")
    if organisation_id is not None:
        query = query.filter(bid__lead_org_id=organisation_id)
    return list(await query.order_by("-finished_at", "-id"))


async def carried_parameters(project: Project) -> list[dict]:
    """The achieved values of the project's passed acceptance (its last round), as parameters."""
    report = await AcceptanceReport.filter(project_id=project.id).order_by("-round").first()
    if report is None:
        return []
    values = await AchievedValue.filter(report_id=report.id).select_related("target") \
        .order_by("target__position", "target_id")
    return [{"name": v.target.name, "value": v.value, "unit": v.target.unit} for v in values]


def candidate_errors(*, name: str, domain: Domain | None, scope: str, core_process: str, benefits: str,
                     parameters: list[dict]) -> dict[str, str]:
    errors = {}
    if not name:
        errors["name"] = _("请填写技术名称")
    elif len(name) > TITLE_MAX:
        errors["name"] = _("不能超过 %(n)s 个字", n=TITLE_MAX)
    if domain is None:
        errors["domain"] = _("请选择所属领域")
    for field, value, message in (("scope", scope, _("请填写适用范围")),
                                  ("core_process", core_process, _("请填写核心工艺")),
                                  ("benefits", benefits, _("请填写综合效益"))):
        if not value:
            errors[field] = message
        elif len(value) > TEXT_MAX:
            errors[field] = _("不能超过 %(n)s 个字", n=TEXT_MAX)
    if not parameters:
        errors["parameters"] = _("请至少填写一项主要技术参数（名称和数值）")
    elif len(parameters) > MAX_PARAMETERS:
        errors["parameters"] = _("主要技术参数最多 %(n)s 项", n=MAX_PARAMETERS)
    return errors


async def _catalogue_fields(round_: CatalogueRound, *, name: str, domain_id: int | None, scope: str,
                            core_process: str, parameters: list[dict], benefits: str, refused: str) -> dict:
    """A candidate's catalogue fields, trimmed and checked (its domain one of the round's);
    refused with `refused` and the errors by field."""
    name, scope, core_process, benefits = name.strip(), scope.strip(), core_process.strip(), benefits.strip()
    round_domains = {d.id for d in await round_.domains.all()}
    domain = await Domain.get_or_none(id=domain_id) if domain_id in round_domains else None
    errors = candidate_errors(name=name, domain=domain, scope=scope, core_process=core_process, benefits=benefits,
                              parameters=parameters)
    if errors:
        raise DomainError(refused, errors=errors)
    return {"name": name, "domain": domain, "scope": scope, "core_process": core_process, "parameters": parameters,
            "benefits": benefits}


async def propose_candidate(*, round_: CatalogueRound, project: Project, actor: User, name: str,
                            domain_id: int | None, scope: str, core_process: str, parameters: list[dict],
                            benefits: str, now: datetime | None = None) -> Candidate:
    """An accepted project proposed as a candidate, by the programme office or by the project's
    team (before the deadline). Refused, nothing saved, for a round not open, a project not
    accepted, one already proposed in the round, incomplete fields. Audit `catalogue_candidate.propose`."""
    now = now or now_utc()
    bid = await Bid.get(id=project.bid_id).select_related("lead_org")
    if actor is None or not (actor.is_organiser or delivery_permissions.is_team(actor, bid)):
        raise PermissionDenied(_("只有管理员或项目团队可以推荐候选技术"))
    if round_.status != RoundStatus.OPEN:
        raise InvalidTransition(_("该遴选批次当前不受理申报（%(s)s）", s=round_.status.label))
    if not actor.is_organiser and now >= round_.deadline:
        raise InvalidTransition(_("申报已于 %(end)s 截止", end=format_datetime(round_.deadline)))
    if project.status != ProjectStatus.ACCEPTED:
        raise InvalidTransition(_("只有通过验收的项目可以推荐为候选技术"), field="project")
    fields = await _catalogue_fields(round_, name=name, domain_id=domain_id, scope=scope, core_process=core_process,
                                     parameters=parameters, benefits=benefits,
                                     refused=_("候选技术未提交，请先解决以下问题"))
    try:
        async with in_transaction():
            candidate = await Candidate.create(
                round=round_, source=CandidateSource.PROJECT, project=project, organisation_id=bid.lead_org_id,
                proposed_by=actor, **fields)
            await record(actor=actor, action="catalogue_candidate.propose", obj=candidate,
                         after={"round_id": round_.id, "project_id": project.id, "name": fields["name"],
                                "parameters": parameters})
    except IntegrityError:
        raise DomainError(_("该项目的这项技术已是本批次的候选技术"), field="name") from None
    return candidate


def can_apply_offer(user, offer: Offer) -> bool:
    """Who applies an offer to a round: a member acting for the offer's organisation (supply's rule)."""
    return supply_permissions.can_act_for_offer(user, offer)


async def open_rounds(now: datetime | None = None) -> list[CatalogueRound]:
    """Rounds taking applications now (open, before their deadline), with their domains."""
    return list(await CatalogueRound.filter(status=RoundStatus.OPEN, deadline__gt=now or now_utc())
                .prefetch_related("domains").order_by("deadline", "id"))


async def offer_fields(offer: Offer) -> dict:
    """An offer's content in the catalogue's fields, to prefill its application (the owner edits them)."""
    parameters = [{"name": p.name, "value": p.value, "unit": p.unit}
                  for p in await OfferParameter.filter(offer_id=offer.id).order_by("position", "id")]
    figures = []
    if offer.energy_saved_tce is not None:
        figures.append(_("年节能量 %(n)s 吨标准煤", n=offer.energy_saved_tce))
    if offer.co2_reduced_t is not None:
        figures.append(_("年二氧化碳减排量 %(n)s 吨", n=offer.co2_reduced_t))
    if offer.cost_wan is not None:
        figures.append(_("典型投资 %(n)s 万元", n=offer.cost_wan))
    benefits = "；".join(figures)
    if offer.benefits_text:
        benefits = f"{benefits}。{offer.benefits_text}" if benefits else offer.benefits_text
    return {"name": offer.name, "domain_id": offer.domain_id, "scope": offer.scope or offer.summary,
            "core_process": offer.core_process, "parameters": parameters[:MAX_PARAMETERS], "benefits": benefits}


async def apply_offer(*, round_: CatalogueRound, offer: Offer, actor: User, name: str, domain_id: int | None,
                      scope: str, core_process: str, parameters: list[dict], benefits: str,
                      now: datetime | None = None) -> Candidate:
    """A published technology offer applied to an open round by its owner, before the deadline, in
    one of the round's domains, with the catalogue's fields (prefilled from the offer, edited by
    the owner). Refused, nothing saved, for someone not acting for the offer's organisation, an
    offer not published, a round not open or past its deadline, incomplete fields, an offer
    already applied to the round. Audit `catalogue_candidate.apply`."""
    now = now or now_utc()
    if actor is None:
        raise PermissionDenied(_("只有技术成果所属单位的成员可以申报推广目录"))
    await supply_services.check_owner(actor, offer.organisation_id)
    if offer.status != OfferStatus.PUBLISHED:
        raise InvalidTransition(_("只有审核发布的技术成果可以申报推广目录"))
    if round_.status != RoundStatus.OPEN:
        raise InvalidTransition(_("该遴选批次当前不受理申报（%(s)s）", s=round_.status.label))
    if now >= round_.deadline:
        raise InvalidTransition(_("申报已于 %(end)s 截止", end=format_datetime(round_.deadline)))
    fields = await _catalogue_fields(round_, name=name, domain_id=domain_id, scope=scope, core_process=core_process,
                                     parameters=parameters, benefits=benefits, refused=_("申报未提交，请先解决以下问题"))
    if await Candidate.exists(round_id=round_.id, offer_id=offer.id):
        raise DomainError(_("该技术成果已申报本批次"), field="name")
    try:
        async with in_transaction():
            candidate = await Candidate.create(
                round=round_, source=CandidateSource.OFFER, offer=offer, organisation_id=offer.organisation_id,
                proposed_by=actor, **fields)
            await record(actor=actor, action="catalogue_candidate.apply", obj=candidate,
                         after={"round_id": round_.id, "offer_id": offer.id, "name": fields["name"],
                                "parameters": parameters})
    except IntegrityError:
        raise DomainError(_("该技术成果已申报本批次"), field="name") from None
    return candidate


async def screen_candidate(*, candidate: Candidate, actor: User, eligible: bool | None, note: str) -> Candidate:
    """The office's screening (初审) against the round's conditions; a refusal states its reason."""
    _check_organiser(actor)
    note = note.strip()
    if eligible is None:
        raise DomainError(_("请选择初审结论"), field="eligible")
    if not eligible and not note:
        raise DomainError(_("未通过初审时请写明理由"), field="note")
    if len(note) > TEXT_MAX:
        raise DomainError(_("不能超过 %(n)s 个字", n=TEXT_MAX), field="note")
    async with in_transaction():
        locked = await Candidate.filter(id=candidate.id).select_for_update().get()
        round_ = await CatalogueRound.get(id=locked.round_id)
        if round_.status not in (RoundStatus.OPEN, RoundStatus.EVALUATING):
            raise InvalidTransition(_("该遴选批次当前不能初审（%(s)s）", s=round_.status.label))
        locked.screen_note = note
        await locked.save(update_fields=["screen_note"])
        status = CandidateStatus.ELIGIBLE if eligible else CandidateStatus.SCREENED_OUT
        return await set_candidate_status(candidate=locked, status=status, actor=actor, note=note)


# -- technical evaluation -------------------------------------------------------------------------

async def form_evaluation(*, candidate: Candidate, actor: User, name: str, member_ids: list[int],
                          chair_id: int | None, deputy_id: int | None, due_at, dispersion_threshold,
                          blind_review: bool = False) -> Panel:
    """The candidate's technical evaluation panel, formed by the reviews area's panel rules: every
    candidate of the round is scored on the round's rubric (技术评价) and aggregated by the trimmed
    mean, so their scores compare.

    A project's panel reviews the project's bid: its experts conflict-checked against the
    project's consortium. An offer's is a panel outside any challenge: its experts
    conflict-checked against the offer's organisation (the holder), reviewed openly (the holder is
    part of what is evaluated). Audit `catalogue_candidate.evaluation`."""
    _check_organiser(actor)
    round_ = await CatalogueRound.get(id=candidate.round_id)
    if round_.status != RoundStatus.EVALUATING:
        raise InvalidTransition(_("遴选批次进入技术评价阶段后方可组建评价专家组"))
    if candidate.status != CandidateStatus.ELIGIBLE or candidate.panel_id is not None:
        raise InvalidTransition(_("该候选技术已组建评价专家组或未通过初审"))
    common = {"purpose": PanelPurpose.EVALUATION, "stage": None, "name": name, "member_ids": member_ids,
              "chair_id": chair_id, "deputy_id": deputy_id, "due_at": due_at,
              "dispersion_threshold": dispersion_threshold, "actor": actor,
              "rubric": round_.rubric or EVALUATION_RUBRIC, "aggregation": Aggregation.TRIMMED_MEAN}
    if candidate.source == CandidateSource.OFFER:
        offer = await Offer.get(id=candidate.offer_id).select_related("organisation")
        subject = {"challenge": None, "bids": [], "holder": offer.organisation, "blind_review": False}
    else:
        project = await Project.get(id=candidate.project_id)
        subject = {"challenge": await Challenge.get(id=project.challenge_id),
                   "bids": [await Bid.get(id=project.bid_id)], "blind_review": blind_review}
    async with in_transaction():
        panel = await panels.form_panel(**common, **subject)
        updated = await Candidate.filter(id=candidate.id, panel_id=None).update(panel_id=panel.id)
        if not updated:
            raise InvalidTransition(_("该候选技术已组建评价专家组或未通过初审"))
        candidate.panel_id = panel.id
        await record(actor=actor, action="catalogue_candidate.evaluation", obj=candidate,
                     after={"panel_id": panel.id, "round_id": round_.id})
    return panel


@dataclass
class EvaluationRow:
    candidate: Candidate
    panel: Panel | None
    score: Decimal | None
    experts: int
    flagged: bool

    @property
    def concluded(self) -> bool:
        return self.panel is not None and self.panel.status == PanelStatus.CONCLUDED


async def evaluation(round_: CatalogueRound) -> list[EvaluationRow]:
    """The round's eligible (and proposed) candidates with their panel's score, best first.

    One ranking per panel: a round has tens of candidates, each with its own panel."""
    candidates = await Candidate.filter(round_id=round_.id, status__in=[
        CandidateStatus.ELIGIBLE, CandidateStatus.RECOMMENDED, CandidateStatus.NOT_RECOMMENDED,
        CandidateStatus.LISTED]).select_related("panel", "panel__challenge", "domain", "organisation")
    rows = []
    for candidate in candidates:
        panel = candidate.panel
        score, experts, flagged = None, 0, False
        if panel is not None and panel.status == PanelStatus.CONCLUDED:
            ranked = await reviews.ranking(panel=panel, aggregation_rule=panel.aggregation_rule(panel.challenge))
            if ranked:
                score, experts, flagged = ranked[0].score_display, ranked[0].count, ranked[0].flagged
        rows.append(EvaluationRow(candidate=candidate, panel=panel, score=score, experts=experts, flagged=flagged))
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.candidate.id))
    return rows


# -- the notice -----------------------------------------------------------------------------------

async def publish_notice(*, round_: CatalogueRound, actor: User, recommended_ids: list[int],
                         working_days: int | None, starts_on: date | None, now: datetime | None = None) -> Notice:
    """The catalogue notice (推广目录公示): the proposed entries, a period in working days, objections
    as for results. Needs every eligible candidate's panel concluded and one candidate proposed.
    Side effects: candidates recommended or not (with their panel's score), the results area's
    notice (kind `catalogue`, no challenge; a revision replaces a withdrawn one), the round
    evaluating → notice, audit `notice.publish`."""
    _check_organiser(actor)
    now = now or now_utc()
    errors = results.period_errors(working_days=working_days, starts_on=starts_on, now=now)
    rows = await evaluation(round_)
    eligible = [r for r in rows if r.candidate.status == CandidateStatus.ELIGIBLE]
    if any(not r.concluded for r in eligible):
        errors["recommended"] = _("还有候选技术的技术评价尚未形成专家组意见")
    chosen = set(recommended_ids) & {r.candidate.id for r in eligible}
    if not chosen:
        errors.setdefault("recommended", _("请至少选择一项拟入选的技术"))
    if errors:
        raise DomainError(_("公示未发布，请先解决以下问题"), errors=errors)
    period = workdays.notice_period(starts_on, working_days)
    async with in_transaction():
        locked = await CatalogueRound.filter(id=round_.id).select_for_update().get()
        if locked.status != RoundStatus.EVALUATING:
            raise InvalidTransition(_("遴选批次当前状态为“%(s)s”，不能发布公示", s=locked.status.label))
        replaces = await Notice.get_or_none(id=locked.notice_id) if locked.notice_id else None
        notice = await Notice.create(
            kind=NoticeKind.CATALOGUE, challenge=None, revision=(replaces.revision + 1) if replaces else 1,
            replaces=replaces, working_days=working_days, starts_on=period.first_day, ends_on=period.last_day,
            ends_at=period.ends_at, published_by=actor, published_at=now)
        for row in eligible:
            row.candidate.score = row.score
            await row.candidate.save(update_fields=["score"])
            status = CandidateStatus.RECOMMENDED if row.candidate.id in chosen else CandidateStatus.NOT_RECOMMENDED
            await set_candidate_status(candidate=row.candidate, status=status, actor=actor)
        locked.notice = notice
        await locked.save(update_fields=["notice_id"])
        await set_round_status(round_=locked, status=RoundStatus.NOTICE, actor=actor)
        await record(actor=actor, action="notice.publish", obj=notice,
                     after={"kind": NoticeKind.CATALOGUE, "round_id": locked.id, "revision": notice.revision,
                            "working_days": working_days, "starts_on": period.first_day, "ends_at": period.ends_at,
                            "recommended": sorted(chosen)})
        notice.published_head = await results._audit_head()
        await notice.save(update_fields=["published_head"])
    return notice


async def reopen_after_objection(*, notice: Notice, actor: User, now: datetime) -> None:
    """An upheld objection to a catalogue notice (registered with the results area): the notice is
    withdrawn (by the caller), the round goes back to evaluation and its proposal is made again."""
    round_ = await CatalogueRound.filter(notice_id=notice.id).select_for_update().get()
    for candidate in await Candidate.filter(round_id=round_.id, status__in=[
            CandidateStatus.RECOMMENDED, CandidateStatus.NOT_RECOMMENDED]):
        await set_candidate_status(candidate=candidate, status=CandidateStatus.ELIGIBLE, actor=actor,
                                   note=_("异议成立，重新评价"))
    if round_.status == RoundStatus.NOTICE:
        await set_round_status(round_=round_, status=RoundStatus.EVALUATING, actor=actor, note=_("异议成立"))


async def notice_title(notice: Notice) -> str:
    round_ = await CatalogueRound.get(notice_id=notice.id)
    return _("推广目录公示：%(title)s", title=round_.title)


objections.OTHER_NOTICES[NoticeKind.CATALOGUE] = objections.NoticeHooks(
    title=notice_title, reopen=reopen_after_objection,
    link=lambda notice: f"/catalogue/notices/{notice.id}",
    manage_link=lambda objection: f"/catalogue/manage/objections/{objection.id}")


# -- publication ----------------------------------------------------------------------------------

async def publish_round(*, round_: CatalogueRound, actor: User, now: datetime | None = None) -> CatalogueVersion:
    """After the notice period, with every objection answered: the notice announced, each
    recommended candidate listed under the next free number, and a new catalogue version.
    Audit `notice.announced`, `catalogue_round.published`, `catalogue_entry.listed`, `catalogue.version`."""
    _check_organiser(actor)
    now = now or now_utc()
    async with in_transaction():
        locked = await CatalogueRound.filter(id=round_.id).select_for_update().get()
        if locked.status != RoundStatus.NOTICE:
            raise InvalidTransition(_("遴选批次当前状态为“%(s)s”，不能发布目录", s=locked.status.label))
        notice = await Notice.filter(id=locked.notice_id).select_for_update().get()
        problem = results.announce_problem(notice, await results.open_objections(notice), now)
        if problem:
            raise InvalidTransition(problem)
        await results.set_notice_status(notice=notice, status=NoticeStatus.ANNOUNCED, actor=actor, now=now)
        recommended = await Candidate.filter(round_id=locked.id, status=CandidateStatus.RECOMMENDED) \
            .select_related("organisation").order_by("-score", "id")
        entries = []
        for candidate in recommended:
            entries.append(await catalogue.list_candidate(candidate=candidate, round_=locked, actor=actor, now=now))
            await set_candidate_status(candidate=candidate, status=CandidateStatus.LISTED, actor=actor)
        await set_round_status(round_=locked, status=RoundStatus.PUBLISHED, actor=actor)
        version = await catalogue.publish_version(
            actor=actor, now=now, reason=_("%(title)s：新列入 %(n)s 项", title=locked.title, n=len(entries)))
        await catalogue.log_changes(entries=entries, kind=ChangeKind.LISTED, reason=locked.title,
                                    version=version, actor=actor, now=now)
        notice.announced_head = await results._audit_head()
        await notice.save(update_fields=["announced_head"])
    return version


async def listed_entries(round_: CatalogueRound) -> list[CatalogueEntry]:
    return list(await CatalogueEntry.filter(round_id=round_.id).select_related("domain").order_by("number"))
