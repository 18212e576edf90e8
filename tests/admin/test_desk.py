"""The programme office's desk: its work queue and figures count known data, in a fixed number of
queries whatever the amount of data, and only an organiser opens it."""

import re
from datetime import date, timedelta

from challenge.accounts.models import Membership, MembershipStatus, OrgStatus
from challenge.admin import charts
from challenge.bids.models import BidStatus
from challenge.challenges.models import ChallengeStatus, Question
from challenge.delivery.models import Project, ProjectMilestone, ProjectStatus
from challenge.needs.models import NeedStatus
from challenge.results.models import Decision, DecisionEntry, Notice, NoticeKind, Objection
from challenge.reviews.models import Assignment, AssignmentStatus, Panel
from challenge.web.timefmt import now_utc
from factories import domains, make_bid, make_challenge, make_need, make_org, make_organiser, make_user
from querylog import count_queries

QUEUE = re.compile(r'data-queue="([a-z_]+)">\s*<span class="stat">(\d+)</span>')


def queue_counts(html: str) -> dict[str, int]:
    return {key: int(value) for key, value in QUEUE.findall(html)}


def row_values(html: str, table_id: str, label: str) -> list[int]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'<th scope="row">{label}</th>', 1)[1].split("</tr>", 1)[0]
    return [int(v) for v in re.findall(r">(\d+)</td>", row)]


async def seed(tag: int = 0) -> None:
    """One of everything the desk counts, and things it must not count."""
    now = now_utc()
    energy, pollution = (await domains())[:2]
    beijing = await make_org(region_code="110000", name=f"北京单位{tag}")
    jiangsu = await make_org(region_code="320500", name=f"苏州单位{tag}")
    await make_org(status=OrgStatus.PENDING)
    await make_need(organisation=beijing, domain=energy)  # to screen
    await make_need(organisation=jiangsu, domain=pollution, status=NeedStatus.ACCEPTED)
    await make_need(organisation=jiangsu, domain=pollution, status=NeedStatus.DRAFT)  # not counted anywhere
    member = await make_user(organisation=None)
    await Membership.create(user=member, organisation=beijing, status=MembershipStatus.PENDING)

    open_call = await make_challenge(domain=energy)
    await open_call.issuers.add(beijing)
    await make_challenge(domain=pollution, status=ChallengeStatus.DRAFT)  # not public
    await make_bid(challenge=open_call, lead_org=jiangsu)  # awaiting the formal check
    await make_bid(challenge=open_call, lead_org=beijing, status=BidStatus.DRAFT)  # not received
    finished = await make_challenge(domain=pollution, status=ChallengeStatus.DELIVERING,
                                    closes_at=now - timedelta(days=90))
    await finished.issuers.add(jiangsu)
    winner = await make_bid(challenge=finished, lead_org=beijing, status=BidStatus.WINNER)
    await Project.create(challenge=finished, bid=winner, title="项目", status=ProjectStatus.ACCEPTED, started_at=now)
    running_bid = await make_bid(challenge=finished, lead_org=jiangsu, status=BidStatus.WINNER)
    running = await Project.create(challenge=finished, bid=running_bid, title="项目", started_at=now)
    await ProjectMilestone.create(project=running, title="节点", due_date=date.today() - timedelta(days=3))
    await ProjectMilestone.create(project=running, title="节点", due_date=date.today() + timedelta(days=30))

    expert = await make_user()
    late = await Panel.create(challenge=finished, name="逾期专家组", due_at=now - timedelta(days=1))
    on_time = await Panel.create(challenge=finished, name="专家组", due_at=now + timedelta(days=5))
    await Assignment.create(panel=late, bid=winner, expert=expert, status=AssignmentStatus.IN_PROGRESS)
    await Assignment.create(panel=on_time, bid=running_bid, expert=expert, status=AssignmentStatus.ASSIGNED)
    await Assignment.create(panel=on_time, bid=winner, expert=expert, status=AssignmentStatus.SUBMITTED)

    await Question.create(challenge=open_call, asked_by=member, body="申报截止时间？")
    await Question.create(challenge=open_call, asked_by=member, body="可否联合申报？", answer="可以", answered_at=now)
    notice = await Notice.create(kind=NoticeKind.RESULT, challenge=finished, working_days=5, starts_on=date.today(),
                                 ends_on=date.today(), ends_at=now, published_at=now)
    await Objection.create(notice=notice, objector=member, real_name="张三", contact="13800000000", reasons="理由",
                           filed_at=now)
    # An open call in its notice period: the proposed winner counts, the other bid does not.
    noticed = await make_challenge(domain=energy, status=ChallengeStatus.NOTICE, closes_at=now - timedelta(days=20))
    proposed = await make_bid(challenge=noticed, lead_org=beijing, status=BidStatus.IN_REVIEW)
    other = await make_bid(challenge=noticed, lead_org=jiangsu, status=BidStatus.IN_REVIEW)
    panel = await Panel.create(challenge=noticed, name="专家组", due_at=now - timedelta(days=9))
    decision = await Decision.create(panel=panel, challenge=noticed, scores_sha256="0" * 64, recorded_at=now)
    for rank, (bid, selected) in enumerate(((proposed, True), (other, False)), start=1):
        await DecisionEntry.create(decision=decision, bid=bid, rank=rank, in_top=selected, recommended=selected,
                                   selected=selected)
    await Notice.create(kind=NoticeKind.RESULT, challenge=noticed, decision=decision, working_days=5,
                        starts_on=date.today(), ends_on=date.today(), ends_at=now, published_at=now)


async def test_desk_counts_known_data(client):
    organiser = await make_organiser()
    await seed()
    await client.login(organiser.email)
    response = await client.get("/admin/")
    assert response.status_code == 200
    # make_organiser's own organisation is approved; one pending organisation was made.
    assert queue_counts(response.text) == {
        "needs": 1, "organisations": 1, "memberships": 1, "formal_checks": 1, "reviews_due": 2,
        "reviews_overdue": 1, "questions": 1, "objections": 1, "milestones_overdue": 1,
    }
    html = response.text
    # needs (not drafts), public challenges, received bids, winners, accepted projects
    funnel = [int(v) for v in re.findall(r'data-stage="\d">(\d+)</td>', html)]
    assert funnel == [2, 3, 5, 3, 1]
    energy, pollution = (await domains())[:2]
    assert row_values(html, "domain-table", energy.name) == [1, 2, 3, 1, 0]
    assert row_values(html, "domain-table", pollution.name) == [1, 1, 2, 2, 1]
    assert row_values(html, "region-table", "北京市") == [1, 1, 2, 2, 1]
    assert row_values(html, "region-table", "江苏省") == [1, 1, 3, 1, 0]
    # The challenge in its notice period has no issuer: counted under no region.
    assert row_values(html, "region-table", "未注明地区") == [0, 1, 0, 0, 0]
    assert html.count('role="img"') == 4 and "<title" in html
    # The bid of the open challenge, submitted today, is in today's column.
    assert re.search(r"<title>\d\d-\d\d: 1</title></rect>", html)


async def test_desk_queries_do_not_grow_with_data(client):
    organiser = await make_organiser()
    await seed(1)
    await client.login(organiser.email)
    few, _html = await count_queries(client, "/admin/")
    for tag in range(2, 5):
        await seed(tag)
    many, html = await count_queries(client, "/admin/")
    assert few == many, (few, many)
    assert queue_counts(html)["needs"] == 4


async def test_only_organisers_open_the_desk(client):
    user = await make_user()
    assert (await client.get("/admin/")).status_code in (302, 303, 401)
    await client.login(user.email)
    assert (await client.get("/admin/")).status_code == 403


def test_chart_labels_are_escaped():
    svg = charts.bars(title="<script>", labels=['a"<b>'], values=[3])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert 'role="img"' in svg and "<title" in svg


async def test_the_membership_queue_leads_to_the_pending_requests(client):
    organiser = await make_organiser()
    await seed()
    decided = await make_user(organisation=None, name="已处理申请人")
    await Membership.create(user=decided, organisation=await make_org(name="另一单位"),
                            status=MembershipStatus.REJECTED)
    await client.login(organiser.email)
    desk = (await client.get("/admin/")).text
    assert 'href="/admin/organisations#memberships"' in desk
    page = await client.get("/admin/organisations")
    assert page.status_code == 200
    section = page.text.split('id="memberships"')[1].split("</section>")[0]
    [pending] = await Membership.filter(status=MembershipStatus.PENDING).prefetch_related("user", "organisation")
    assert pending.user.email in section and f'href="/admin/organisations/{pending.organisation_id}"' in section
    assert decided.email not in section  # only requests still waiting
