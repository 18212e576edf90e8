"""Projects: made from the winning bid at the announcement, with its milestones and budget as the
plan; progress reports with receipts that the organiser accepts or returns; overdue milestones
flagged on the team's and the organiser's pages; funding tranches planned and released."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from challenge.audit.models import AuditEntry
from challenge.challenges.models import ChallengeStatus
from challenge.delivery import funding, reports
from challenge.delivery.models import ProgressReport, ProjectStatus, ReportStatus
from challenge.delivery.projects import MilestoneState, milestone_state, today
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.mail.models import Notification
from factories import PASSWORD
from factories.bids import PDF, make_bidder, storage_of, upload_from_bytes
from factories.delivery import make_project


async def test_the_winning_bid_becomes_a_project_with_its_plan(db, settings):
    made = await make_project(settings, milestone_days=(30, 120), requested="800")
    project = made.project
    assert project.status == ProjectStatus.ACTIVE and project.plan_version == 1
    assert project.requested_wan == Decimal("800.00") and project.own_wan == Decimal("500.00")
    assert [(m.title, m.due_date) for m in made.milestones] == [
        ("节点1", date.today() + timedelta(days=30)), ("节点2", date.today() + timedelta(days=120))]
    assert made.challenge.status == ChallengeStatus.DELIVERING
    assert await AuditEntry.filter(action="project.create", object_id=str(project.id)).exists()
    assert await AuditEntry.filter(action="challenge.delivering").exists()
    assert await Notification.filter(user=made.team, subject__contains="攻关项目已建立").exists()


async def test_a_report_is_returned_with_a_reason_revised_and_accepted(db, settings):
    made = await make_project(settings)
    milestone = made.milestones[0]
    upload = await upload_from_bytes(storage_of(settings), field="files", filename="进展.pdf", data=PDF)
    first = await reports.submit_report(project=made.project, milestone=milestone, actor=made.team,
                                       text="完成吸收剂筛选", uploads=[upload], storage=storage_of(settings))
    report = await ProgressReport.get(milestone=milestone)
    assert report.status == ReportStatus.SUBMITTED and first.version == 1
    assert json.loads(first.document)["content"]["milestone"]["title"] == "节点1"
    with pytest.raises(PermissionDenied):
        await reports.decide_report(report=report, actor=made.team, accept=True)
    with pytest.raises(DomainError) as refused:
        await reports.decide_report(report=report, actor=made.organiser, accept=False, reason="")
    assert refused.value.field == "reason"
    await reports.decide_report(report=report, actor=made.organiser, accept=False, reason="请补充第三方检测报告")
    told = await Notification.filter(user=made.team, subject__contains="进展报告审核结果").first()
    assert "请补充第三方检测报告" in told.body
    second = await reports.submit_report(project=made.project, milestone=milestone, actor=made.team,
                                        text="补充了第三方检测报告")
    await report.refresh_from_db()
    assert second.version == 2 and report.status == ReportStatus.SUBMITTED
    await reports.decide_report(report=report, actor=made.organiser, accept=True)
    await report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED
    with pytest.raises(InvalidTransition):
        await reports.submit_report(project=made.project, milestone=milestone, actor=made.team, text="再改")
    actions = [e.action for e in await AuditEntry.filter(object_type="progressreport").order_by("seq")]
    assert actions == ["report.submit", "report.return", "report.revise", "report.accept"]


def test_a_milestone_is_overdue_once_due_without_an_accepted_report():
    class Milestone:
        due_date = date(2026, 6, 30)

    assert milestone_state(Milestone, None, date(2026, 6, 30)) == MilestoneState.DUE_SOON
    assert milestone_state(Milestone, None, date(2026, 7, 1)) == MilestoneState.OVERDUE
    assert milestone_state(Milestone, ReportStatus.SUBMITTED, date(2026, 7, 1)) == MilestoneState.OVERDUE
    assert milestone_state(Milestone, ReportStatus.ACCEPTED, date(2026, 7, 1)) == MilestoneState.DONE
    assert milestone_state(Milestone, ReportStatus.RETURNED, date(2026, 6, 1)) == MilestoneState.RETURNED
    assert milestone_state(Milestone, None, date(2026, 1, 1)) == MilestoneState.UPCOMING


async def test_overdue_milestones_are_flagged_on_the_team_and_organiser_pages(client, settings):
    made = await make_project(settings, milestone_days=(-3, 60))
    await client.login(made.team.email, PASSWORD)
    mine = await client.get("/delivery/")
    assert mine.status_code == 200 and "逾期 1 个" in mine.text and made.project.title in mine.text
    page = await client.get(f"/delivery/projects/{made.project.id}")
    assert "有 1 个攻关节点已逾期" in page.text and "已逾期" in page.text
    await client.login(made.organiser.email, PASSWORD)
    desk = await client.get("/delivery/manage")
    assert desk.status_code == 200 and "逾期 1 个" in desk.text
    # Accepted, it is no longer overdue.
    await reports.submit_report(project=made.project, milestone=made.milestones[0], actor=made.team, text="已完成")
    report = await ProgressReport.get(milestone=made.milestones[0])
    response = await client.submit(f"/delivery/reports/{report.id}", {"decision": "accept"})
    assert response.status_code == 303
    assert "逾期 1 个" not in (await client.get("/delivery/manage")).text.split('id="h-projects"')[1].split("</section>")[0]


async def test_tranches_are_planned_within_the_request_and_released(client, settings):
    made = await make_project(settings, requested="1000")
    with pytest.raises(DomainError) as refused:
        await funding.add_tranche(project=made.project, actor=made.organiser, milestone_id=None,
                                  planned_wan=Decimal("1200"), planned_on=today())
    assert "planned_wan" in refused.value.errors
    await client.login(made.organiser.email, PASSWORD)
    url = f"/delivery/projects/{made.project.id}/tranches/new"
    form = {"milestone": str(made.milestones[0].id), "planned_wan": "600", "planned_on": today().isoformat(),
            "note": "首期拨付"}
    response = await client.submit(url, form)
    assert response.status_code == 303
    over = await client.submit(url, {**form, "planned_wan": "500"})
    assert over.status_code == 400 and "计划拨付合计不能超过申请资金" in over.text
    tranche = await made.project.tranches.all().first()
    future = await client.submit(f"/delivery/tranches/{tranche.id}/release",
                                 {"released_wan": "600", "released_on": (today() + timedelta(days=1)).isoformat()})
    assert future.status_code == 400 and "不能晚于今天" in future.text
    done = await client.submit(f"/delivery/tranches/{tranche.id}/release",
                               {"released_wan": "600", "released_on": today().isoformat()})
    assert done.status_code == 303
    await client.login(made.team.email, PASSWORD)
    page = await client.get(f"/delivery/projects/{made.project.id}")
    funded = page.text.split('id="tranches"')[1].split("</section>")[0]
    assert "首期拨付" in funded and "已拨付 600 万元" in funded and "登记拨付" not in funded
    # Another organisation's bidder sees nothing of it.
    stranger = await make_bidder()
    await client.login(stranger.email, PASSWORD)
    assert (await client.get(f"/delivery/projects/{made.project.id}")).status_code == 404
    assert (await client.get(f"/delivery/projects/{made.project.id}/tranches/new")).status_code == 403
