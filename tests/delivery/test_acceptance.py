"""Mid-term review and acceptance through the review machinery: conflicts from the consortium,
experts judging every target, the organiser's result published and notified."""

from datetime import timedelta
from decimal import Decimal

import pytest
from feedparser import parse

from challenge.accounts.models import Organisation
from challenge.bids.forms import PartnerInput
from challenge.challenges.models import AssessmentTarget, Challenge, ChallengeStatus
from challenge.delivery import acceptance
from challenge.delivery.models import AchievedValue, Outcome, Project, ProjectReview, ProjectStatus, ReviewResult
from challenge.errors import DomainError, InvalidTransition
from challenge.mail.models import Notification
from challenge.reviews import services as reviews
from challenge.reviews.models import Assignment, AssignmentStatus, PanelPurpose, TargetJudgement
from factories import PASSWORD, make_org
from factories.bids import PDF, storage_of
from factories.delivery import make_project
from factories.reviews import make_expert


async def _report(made, settings, values=None):
    targets = await AssessmentTarget.filter(challenge_id=made.challenge.id).order_by("position")
    return await acceptance.submit_acceptance(
        project=made.project, actor=made.team, summary="任务全部完成",
        values=values or {t.id: ("95", "第三方检测") for t in targets}, storage=storage_of(settings))


async def _panel(made, experts, chair=None, purpose=PanelPurpose.ACCEPTANCE):
    return await acceptance.form_review(
        project=made.project, purpose=purpose, actor=made.organiser, name="验收专家组",
        member_ids=[e.id for e in experts], chair_id=(chair or experts[0]).id, deputy_id=None, due_at=None,
        dispersion_threshold=Decimal("15"), blind_review=False)


async def test_a_conflicted_expert_is_never_assigned_an_acceptance_review(db, settings):
    partner = await make_org(name="合作单位甲")
    made = await make_project(settings, partners=[PartnerInput(organisation_id=partner.id)])
    await _report(made, settings)
    free = [await make_expert(), await make_expert()]
    colleague = await make_expert(organisation=await Organisation.get(id=made.bid.lead_org_id))
    from_partner = await make_expert(organisation=partner)
    review = await _panel(made, [*free, colleague, from_partner])
    panel = await review.panel
    proposal = await reviews.propose_assignments(panel=panel, actor=made.organiser)
    assigned = set(await Assignment.filter(panel=panel).values_list("expert_id", flat=True))
    assert assigned == {e.id for e in free}
    assert proposal.short  # three experts per project wanted, two free of conflict
    for conflicted in (colleague, from_partner):
        with pytest.raises(DomainError) as refused:
            await reviews.add_assignment(panel=panel, bid_id=made.bid.id, expert_id=conflicted.id,
                                         actor=made.organiser)
        assert "利益冲突" in refused.value.message
    await reviews.confirm_assignments(panel=panel, actor=made.organiser)
    assert set(await Assignment.filter(panel=panel, status=AssignmentStatus.ASSIGNED)
               .values_list("expert_id", flat=True)) == {e.id for e in free}


async def test_an_acceptance_needs_the_report_and_one_panel_per_round(db, settings):
    made = await make_project(settings)
    experts = [await make_expert()]
    with pytest.raises(InvalidTransition):
        await _panel(made, experts)
    await _report(made, settings)
    await _panel(made, experts)
    with pytest.raises(InvalidTransition):
        await _panel(made, experts)
    with pytest.raises(InvalidTransition) as frozen:
        await _report(made, settings)
    assert "验收评审已开始" in frozen.value.message


async def _review(made, review, met: list[bool], score: int):
    panel = await review.panel
    await reviews.propose_assignments(panel=panel, actor=made.organiser)
    await reviews.confirm_assignments(panel=panel, actor=made.organiser)
    return panel


async def test_the_acceptance_result_is_published_notified_and_finishes_the_challenge(client, settings):
    made = await make_project(settings, team_locale="en")
    await Challenge.filter(id=made.challenge.id).update(experts_per_bid=1)
    targets = list(await AssessmentTarget.filter(challenge_id=made.challenge.id).order_by("position"))
    # The team files its acceptance report in the browser, with evidence for the first target.
    await client.login(made.team.email, PASSWORD)
    url = f"/delivery/projects/{made.project.id}/acceptance"
    form = {"summary": "全部任务完成，示范装置连续运行 168 小时"}
    for t in targets:
        form[f"target-{t.id}-value"] = "96"
        form[f"target-{t.id}-note"] = "第三方检测"
    no_file = {"file-summary": ("", b"", "application/octet-stream")}  # a multipart form, as a browser sends it
    missing = await client.submit(url, {**form, f"target-{targets[1].id}-value": ""}, files=no_file)
    assert missing.status_code == 400 and f'id="error-target-{targets[1].id}-value"' in missing.text
    filed = await client.submit(url, form, files={f"file-target-{targets[0].id}": ("检测报告.pdf", PDF, "application/pdf")})
    assert filed.status_code == 303
    # The organiser forms the panel; the expert judges each target and scores.
    expert = await make_expert()
    await client.login(made.organiser.email, PASSWORD)
    response = await client.submit(f"/delivery/projects/{made.project.id}/panels/new", {
        "purpose": "acceptance", "name": "验收专家组", "members": str(expert.id), "chair": str(expert.id),
        "dispersion_threshold": "15"})
    assert response.status_code == 303
    review = await ProjectReview.get(project=made.project).select_related("panel")
    assert response.headers["location"] == f"/review/manage/panels/{review.panel_id}"
    await reviews.propose_assignments(panel=review.panel, actor=made.organiser)
    await reviews.confirm_assignments(panel=review.panel, actor=made.organiser)
    task = await Assignment.get(panel_id=review.panel_id)
    await client.login(expert.email, PASSWORD)
    page = await client.get(f"/review/assignments/{task.id}")
    assert "第 1 轮验收报告" in page.text and "示范装置连续运行 168 小时" in page.text and "检测报告.pdf" in page.text
    criterion = (await made.challenge.criteria.all().order_by("position"))[0]
    scores = {f"score_{c.id}": "88" for c in await made.challenge.criteria.all()}
    half = await client.submit(f"/review/assignments/{task.id}", {
        "action": "submit", **scores, "opinion": "同意通过", f"judge_{targets[0].id}": "met"})
    assert half.status_code == 400 and f"judge_{targets[1].id}" in half.text
    assert not await TargetJudgement.exists()  # nothing saved half-way
    done = await client.submit(f"/review/assignments/{task.id}", {
        "action": "submit", **scores, "opinion": "同意通过", f"judge_{targets[0].id}": "met",
        f"judge_{targets[1].id}": "not_met", f"judge_note_{targets[1].id}": "略低于目标"})
    assert done.status_code == 303, done.text
    assert criterion.id and (await Assignment.get(id=task.id)).status == AssignmentStatus.SUBMITTED
    opinion = await client.submit(f"/review/panels/{review.panel_id}/opinion", {"text": "专家组同意通过验收"})
    assert opinion.status_code == 303
    # The organiser records the result: published, notified, and the challenge is finished.
    await client.login(made.organiser.email, PASSWORD)
    result_url = f"/delivery/panels/{review.panel_id}/result"
    page = await client.get(result_url)
    assert "1 / 1 达到" in page.text and "0 / 1 达到" in page.text and "专家组同意通过验收" in page.text
    recorded = await client.submit(result_url, {"outcome": "passed", "opinion": "专家组同意通过验收"})
    assert recorded.status_code == 303
    result = await ReviewResult.get(review=review)
    assert recorded.headers["location"] == f"/delivery/results/{result.id}"
    assert (await Project.get(id=made.project.id)).status == ProjectStatus.ACCEPTED
    assert (await Challenge.get(id=made.challenge.id)).status == ChallengeStatus.FINISHED
    verdicts = {v.target_id: v.met for v in await AchievedValue.all()}
    assert verdicts == {targets[0].id: True, targets[1].id: False}
    told = await Notification.filter(user=made.team).order_by("-id").first()
    assert told.subject.startswith("Acceptance review conclusion") and "Conclusion: Passed" in told.body
    assert "专家组同意通过验收" in told.body  # the organiser's words, as written
    assert await Notification.filter(user=made.issuer, link=f"/delivery/results/{result.id}").exists()
    # Public: the challenge page, /results, the result's page and both feeds.
    await client.submit("/logout")
    challenge_page = (await client.get(f"/challenges/{made.challenge.id}")).text
    assert 'id="h-delivery"' in challenge_page and f"/delivery/results/{result.id}" in challenge_page
    assert f"/delivery/results/{result.id}" in (await client.get("/results")).text
    public = await client.get(f"/delivery/results/{result.id}")
    assert public.status_code == 200 and "专家组同意通过验收" in public.text and "未达到" in public.text
    for feed in ("/feed.atom", f"/challenges/{made.challenge.id}/feed.atom"):
        titles = [e.title for e in parse((await client.get(feed)).text).entries]
        assert f"验收结论：{made.challenge.title}" in titles


async def test_rectification_sets_a_deadline_and_a_new_round(db, settings):
    made = await make_project(settings)
    await _report(made, settings)
    expert = await make_expert()
    await Challenge.filter(id=made.challenge.id).update(experts_per_bid=1)
    review = await _panel(made, [expert])
    panel = await review.panel
    await reviews.propose_assignments(panel=panel, actor=made.organiser)
    await reviews.confirm_assignments(panel=panel, actor=made.organiser)
    task = await Assignment.get(panel=panel)
    criteria = list(await made.challenge.criteria.all())
    targets = list(await AssessmentTarget.filter(challenge_id=made.challenge.id))
    from challenge.reviews import judgements

    await judgements.save_review(assignment=task, panel=panel, criteria=criteria,
                                 values={c.id: Decimal("60") for c in criteria}, comments={}, opinion="需整改",
                                 judgements={t.id: False for t in targets}, notes={}, submit=True, actor=expert)
    await reviews.record_opinion(panel=panel, actor=expert, text="建议限期整改", recommended_ids=[])
    with pytest.raises(DomainError) as refused:
        await acceptance.record_result(review=review, actor=made.organiser, outcome=Outcome.RECTIFY, opinion="整改")
    assert "rectify_by" in refused.value.errors
    due = (made.project.started_at + timedelta(days=90)).date()
    result = await acceptance.record_result(review=review, actor=made.organiser, outcome=Outcome.RECTIFY,
                                            opinion="限期整改", rectify_by=due)
    project = await Project.get(id=made.project.id)
    assert result.published and project.status == ProjectStatus.RECTIFYING
    assert project.rectify_by == due and project.acceptance_round == 2
    assert (await Challenge.get(id=made.challenge.id)).status == ChallengeStatus.DELIVERING
    made.project = project
    version = await _report(made, settings)
    assert version.version == 1 and (await acceptance.current_report(project)).round == 2
    await _panel(made, [expert])  # the re-acceptance
