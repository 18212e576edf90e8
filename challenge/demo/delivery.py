"""Demo delivery, through the delivery and review services at explicit times:

- 荒漠草原固碳 (`announced`): its winner's project part-way through: the first milestone's report
  accepted and its tranche paid, the second milestone overdue (its report sent back for more),
  the third ahead;
- 纺织印染废水 (`accepted`): its winner's project completed: every report accepted and tranche
  paid, the acceptance report, an acceptance panel chaired by expert1 whose experts judged every
  target and scored, and the result 予以通过 published: the challenge is finished.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from challenge.accounts.models import User
from challenge.challenges.models import AssessmentTarget, RubricCriterion
from challenge.delivery import acceptance, funding, reports
from challenge.delivery.models import Outcome, Project, ProjectMilestone
from challenge.demo.bids import tiny_pdf, upload_from_bytes
from challenge.files.storage import make_storage
from challenge.reviews import judgements
from challenge.reviews import services as reviews
from challenge.reviews.models import Assignment, PanelPurpose
from challenge.web.timefmt import beijing_to_utc

PROGRESS = [
    "已完成适生植被配置试验 12 组和土壤改良增汇小区试验，建立遥感—地面协同监测样地 30 个，完成第一年监测。",
    "示范区完成补播 1.2 万亩，监测方法学初稿已完成；土壤有机碳年增量数据尚在复核中。",
    "抗污染膜材料完成 2000 小时中试，通量衰减率 9%；浓水减量工艺包完成。",
    "万吨级示范工程建成投运，连续运行 3 个月，回用率 72%，吨水成本 5.6 元。",
    "示范工程连续稳定运行 12 个月，第三方检测报告齐全，运维规程和智能控制系统完成验收准备。",
]
RETURNED = "请补充示范区土壤有机碳第三方采样检测报告，以及监测方法学与涡度相关观测的比对数据。"
ACHIEVED = ["73", "5.6", "11"]


def _at(day, hour: int = 10) -> datetime:
    """`hour` o'clock Beijing time on a Beijing date."""
    return beijing_to_utc(datetime.combine(day, time(hour)))


async def _team(project: Project) -> User:
    bid = await project.bid
    return await User.filter(organisation_id=bid.lead_org_id, is_bidder=True).order_by("id") \
        .select_related("organisation").first()


async def _report(project, milestone, team, storage, text, *, submitted: datetime):
    upload = await upload_from_bytes(storage, field="files", filename=f"{milestone.title}进展报告.pdf",
                                     data=tiny_pdf(f"Progress report {project.id}-{milestone.id}"))
    await reports.submit_report(project=project, milestone=milestone, actor=team, text=text, uploads=[upload],
                                storage=storage, now=submitted)
    return await milestone.report


async def _paid_tranche(project, milestone, admin, share: str) -> None:
    amount = (project.requested_wan * Decimal(share)).quantize(Decimal("1"))
    tranche = await funding.add_tranche(project=project, actor=admin, milestone_id=milestone.id, planned_wan=amount,
                                        planned_on=milestone.due_date + timedelta(days=30), note="按节点考核拨付")
    await funding.release_tranche(tranche=tranche, actor=admin, released_wan=amount,
                                  released_on=milestone.due_date + timedelta(days=35))


async def _part_way(project: Project, admin: User, storage) -> None:
    team = await _team(project)
    first, second, *_rest = await ProjectMilestone.filter(project=project).order_by("position")
    report = await _report(project, first, team, storage, PROGRESS[0], submitted=_at(first.due_date - timedelta(days=10)))
    await reports.decide_report(report=report, actor=admin, accept=True, now=_at(first.due_date + timedelta(days=5)))
    await _paid_tranche(project, first, admin, "0.3")
    await funding.add_tranche(project=project, actor=admin, milestone_id=second.id,
                              planned_wan=(project.requested_wan * Decimal("0.4")).quantize(Decimal("1")),
                              planned_on=second.due_date + timedelta(days=30), note="第二节点通过审核后拨付")
    report = await _report(project, second, team, storage, PROGRESS[1],
                           submitted=_at(second.due_date - timedelta(days=12)))
    await reports.decide_report(report=report, actor=admin, accept=False, reason=RETURNED,
                                now=_at(second.due_date - timedelta(days=8)))


async def _accepted(project: Project, ctx, storage) -> None:
    admin = ctx.users["admin@demo.cn"]
    team = await _team(project)
    milestones = list(await ProjectMilestone.filter(project=project).order_by("position"))
    for milestone, text, share in zip(milestones, PROGRESS[2:], ("0.3", "0.4", "0.3")):
        report = await _report(project, milestone, team, storage, text,
                               submitted=_at(milestone.due_date - timedelta(days=7)))
        await reports.decide_report(report=report, actor=admin, accept=True,
                                    now=_at(milestone.due_date + timedelta(days=3)))
        await _paid_tranche(project, milestone, admin, share)
    targets = list(await AssessmentTarget.filter(challenge_id=project.challenge_id).order_by("position", "id"))
    uploads = [(acceptance.evidence_category(t.id), await upload_from_bytes(
        storage, field=f"file-target-{t.id}", filename=f"{t.name}检测报告.pdf", data=tiny_pdf(f"Test report {t.id}")))
        for t in targets]
    done = milestones[-1].due_date
    await acceptance.submit_acceptance(
        project=project, actor=team, uploads=uploads, storage=storage, now=_at(done + timedelta(days=20)),
        summary="全部攻关任务完成：万吨级示范工程连续稳定运行 12 个月，三项考核指标均达到榜单要求。",
        values={t.id: (value, "第三方检测，连续运行 12 个月") for t, value in zip(targets, ACHIEVED)})
    experts = [ctx.users[f"expert{n}@demo.cn"] for n in range(1, 7) if f"expert{n}@demo.cn" in ctx.users]
    review = await acceptance.form_review(
        project=project, purpose=PanelPurpose.ACCEPTANCE, actor=admin, name=f"{project.title}验收专家组",
        member_ids=[e.id for e in experts], chair_id=ctx.users["expert1@demo.cn"].id, deputy_id=None, due_at=None,
        dispersion_threshold=Decimal("10"), blind_review=False)
    panel = await review.panel
    await reviews.propose_assignments(panel=panel, actor=admin)
    await reviews.confirm_assignments(panel=panel, actor=admin)
    criteria = list(await RubricCriterion.filter(challenge_id=project.challenge_id).order_by("position", "id"))
    for number, assignment in enumerate(await Assignment.filter(panel=panel).order_by("id")):
        expert = next(e for e in experts if e.id == assignment.expert_id)
        await judgements.save_review(
            assignment=assignment, panel=panel, criteria=criteria,
            values={c.id: Decimal(c.max_score * (86 + number * 2) // 100) for c in criteria}, comments={},
            opinion="各项考核指标达到榜单要求，材料齐全，同意通过验收。", judgements={t.id: True for t in targets},
            notes={}, submit=True, actor=expert)
    await reviews.record_opinion(panel=panel, actor=ctx.users["expert1@demo.cn"], recommended_ids=[],
                                 text="专家组认为：项目完成了任务书规定的攻关内容，三项考核指标均达到榜单要求，"
                                      "示范工程运行稳定，同意通过验收。")
    await acceptance.record_result(review=review, actor=admin, outcome=Outcome.PASSED,
                                   opinion="经专家组评审，项目三项考核指标均达到榜单要求，予以通过验收。",
                                   now=_at(done + timedelta(days=60)))


async def load(ctx, settings) -> None:
    made = ctx.extra.get("challenges") or {}
    storage = make_storage(settings)
    if "announced" in made and (project := await Project.get_or_none(challenge_id=made["announced"].id)):
        await _part_way(project, ctx.users["admin@demo.cn"], storage)
    if "accepted" in made and (project := await Project.get_or_none(challenge_id=made["accepted"].id)):
        await _accepted(project, ctx, storage)
