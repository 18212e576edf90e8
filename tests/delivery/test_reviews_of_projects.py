"""Mid-term reviews of projects, blind acceptance reviews, a cancelled challenge's projects, and
the delivery pages' queries: what the review machinery does for a project in delivery."""

from datetime import timedelta
from decimal import Decimal

import pytest

from challenge.accounts.models import Organisation
from challenge.challenges import services as challenges
from challenge.challenges.models import AssessmentTarget, Challenge, ChallengeStatus
from challenge.delivery import acceptance, reports
from challenge.delivery.models import Outcome, Project, ProjectStatus
from challenge.errors import InvalidTransition
from challenge.results import services as results
from challenge.reviews import judgements, services as reviews
from challenge.reviews.models import Assignment, PanelPurpose
from factories import PASSWORD
from factories.bids import PDF, storage_of, upload_from_bytes
from factories.delivery import make_project
from factories.reviews import make_expert
from querylog import count_queries


async def _reviewed(made, purpose, expert, *, blind=False):
    review = await acceptance.form_review(
        project=made.project, purpose=purpose, actor=made.organiser, name="专家组", member_ids=[expert.id],
        chair_id=expert.id, deputy_id=None, due_at=None, dispersion_threshold=Decimal("15"), blind_review=blind)
    panel = await review.panel
    await Challenge.filter(id=made.challenge.id).update(experts_per_bid=1)
    await reviews.propose_assignments(panel=panel, actor=made.organiser)
    await reviews.confirm_assignments(panel=panel, actor=made.organiser)
    return review, panel


async def _conclude(panel, expert, targets=()):
    task = await Assignment.get(panel=panel)
    criteria = list(await (await panel.challenge).criteria.all())
    await judgements.save_review(assignment=task, panel=panel, criteria=criteria,
                                 values={c.id: Decimal("75") for c in criteria}, comments={}, opinion="意见",
                                 judgements={t.id: True for t in targets}, notes={}, submit=True, actor=expert)
    await reviews.record_opinion(panel=panel, actor=expert, text="专家组意见", recommended_ids=[])


async def test_a_mid_term_review_sees_the_progress_and_its_result_steers_the_project(client, settings):
    made = await make_project(settings)
    upload = await upload_from_bytes(storage_of(settings), field="files", filename="中期进展.pdf", data=PDF)
    await reports.submit_report(project=made.project, milestone=made.milestones[0], actor=made.team,
                                text="吸收剂筛选完成，再生能耗 2.4 GJ/t", uploads=[upload], storage=storage_of(settings))
    expert = await make_expert()
    review, panel = await _reviewed(made, PanelPurpose.MIDTERM, expert)
    with pytest.raises(InvalidTransition):  # one open mid-term review at a time
        await _reviewed(made, PanelPurpose.MIDTERM, expert)
    await client.login(expert.email, PASSWORD)
    task = await Assignment.get(panel=panel)
    page = await client.get(f"/review/assignments/{task.id}")
    assert "攻关进展" in page.text and "吸收剂筛选完成，再生能耗 2.4 GJ/t" in page.text
    assert "中期进展.pdf" in page.text and "考核指标达成判断" not in page.text  # judging targets is for acceptance
    file = await client.get(f"/review/assignments/{task.id}/files/1")
    assert file.status_code == 200 and file.content == PDF
    await _conclude(panel, expert)
    with pytest.raises(InvalidTransition):  # its result is the delivery area's, never a notice
        await results.record_decision(panel=panel, actor=made.organiser, selected={made.bid.id: True}, reasons={})
    await client.login(made.organiser.email, PASSWORD)
    assert (await client.get(f"/results/manage/panels/{panel.id}/decision")).status_code == 404
    result = await acceptance.record_result(review=review, actor=made.organiser, outcome=Outcome.RECTIFY,
                                            opinion="加快中试进度", rectify_by=(made.project.started_at + timedelta(days=60)).date())
    project = await Project.get(id=made.project.id)
    assert not result.published and project.status == ProjectStatus.RECTIFYING and project.acceptance_round == 1
    review, panel = await _reviewed(made, PanelPurpose.MIDTERM, expert)
    await _conclude(panel, expert)
    await acceptance.record_result(review=review, actor=made.organiser, outcome=Outcome.PASSED, opinion="整改到位")
    project = await Project.get(id=made.project.id)
    assert project.status == ProjectStatus.ACTIVE and project.rectify_by is None
    review, panel = await _reviewed(made, PanelPurpose.MIDTERM, expert)
    await _conclude(panel, expert)
    await acceptance.record_result(review=review, actor=made.organiser, outcome=Outcome.FAILED, opinion="无法完成")
    assert (await Project.get(id=made.project.id)).status == ProjectStatus.TERMINATED
    # Its only project ended: the challenge is finished.
    assert (await Challenge.get(id=made.challenge.id)).status == ChallengeStatus.FINISHED


async def test_a_blind_acceptance_hides_the_team_from_its_expert(client, settings):
    made = await make_project(settings)
    lead = await Organisation.get(id=made.bid.lead_org_id)
    targets = list(await AssessmentTarget.filter(challenge_id=made.challenge.id).order_by("position"))
    evidence = await upload_from_bytes(storage_of(settings), field=f"file-target-{targets[0].id}",
                                       filename=f"{lead.name}检测报告.pdf", data=PDF)
    await acceptance.submit_acceptance(
        project=made.project, actor=made.team, summary=f"{lead.name}全面完成任务", storage=storage_of(settings),
        uploads=[(acceptance.evidence_category(targets[0].id), evidence)],
        values={t.id: ("96", f"由{lead.name}测试") for t in targets})
    expert = await make_expert()
    _review, panel = await _reviewed(made, PanelPurpose.ACCEPTANCE, expert, blind=True)
    await client.login(expert.email, PASSWORD)
    task = await Assignment.get(panel=panel)
    page = await client.get(f"/review/assignments/{task.id}")
    assert page.status_code == 200 and "匿名评审" in page.text and "全面完成任务" in page.text
    assert lead.name not in page.text and "申报A-证明材料-1.pdf" in page.text
    assert "考核指标达成判断" in page.text


async def test_a_cancelled_challenge_ends_its_projects(db, settings):
    made = await make_project(settings)
    await challenges.set_challenge_status(challenge=made.challenge, status=ChallengeStatus.CANCELLED,
                                          actor=made.organiser, reason="发榜单位撤回需求")
    project = await Project.get(id=made.project.id)
    assert project.status == ProjectStatus.TERMINATED and project.finished_at is not None
    with pytest.raises(InvalidTransition):
        await reports.submit_report(project=project, milestone=made.milestones[0], actor=made.team, text="进展")


async def test_the_delivery_desk_takes_constant_queries(client, settings):
    first = await make_project(settings)
    await client.login(first.organiser.email, PASSWORD)
    few, _page = await count_queries(client, "/delivery/manage")
    few_project, _page = await count_queries(client, f"/delivery/projects/{first.project.id}")
    for _ in range(3):
        made = await make_project(settings, milestone_days=(-10, 20, 80))
        await reports.submit_report(project=made.project, milestone=made.milestones[0], actor=made.team, text="进展")
    many, page = await count_queries(client, "/delivery/manage")
    assert many == few and page.count("逾期 1 个") == 3
    many_project, _page = await count_queries(client, f"/delivery/projects/{made.project.id}")
    assert many_project == few_project
