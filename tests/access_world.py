"""The world the access matrix runs in: two organisations (the people's own, A, and another, B),
one person per role, and one object of each kind in A and in B (or a shared one)."""

import json
from dataclasses import dataclass, field

from challenge.accounts.models import LinkedIdentity, Membership, Role, User
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Question
from challenge.files.models import Attachment
from challenge.files.services import attach
from challenge.needs.models import NeedStatus
from challenge.delivery import deliverables, reports
from challenge.delivery.models import AcceptanceReport, FundingTranche, Outcome, Project, ProjectReview, ReviewResult
from challenge.results import objections
from challenge.reviews.models import ConflictDeclaration, ConflictKind, Panel, PanelPurpose, PanelStatus
from factories import make_bid, make_campaign, make_challenge, make_need, make_org, make_organiser, make_user
from factories.bids import make_submitted, tiny_pdf, upload_from_bytes
from factories.delivery import make_project, make_race
from factories.results import concluded_review, open_notice
from factories.supply import make_contact, make_offer
from challenge.supply.models import OfferStatus
from factories.reviews import (
    assign,
    make_expert,
    make_panel,
    make_review_bid,
    make_review_challenge,
    make_submitted_version,
    store_file,
)

ROLES = ("anonymous", "pending", "submitter", "bidder", "manager", "expert", "organiser")


@dataclass
class World:
    people: dict[str, User | None] = field(default_factory=dict)
    own: dict[str, object] = field(default_factory=dict)  # path parameter -> value in org A / of the person
    other: dict[str, object] = field(default_factory=dict)  # ... in org B / of someone else
    shared: dict[str, object] = field(default_factory=dict)  # objects that belong to no organisation


async def build(settings, storage) -> World:
    world = World()
    org_a = await make_org(name="本单位")
    org_b = await make_org(name="他单位")
    people = world.people
    people["anonymous"] = None
    people["submitter"] = await make_user(Role.SUBMITTER, organisation=org_a)
    people["bidder"] = await make_user(Role.BIDDER, organisation=org_a)
    people["manager"] = await make_user(Role.SUBMITTER, Role.BIDDER, organisation=org_a, is_org_manager=True)
    people["expert"] = await make_expert()
    people["organiser"] = await make_organiser()
    pending = await make_user(Role.SUBMITTER, Role.BIDDER)
    await User.filter(id=pending.id).update(organisation_id=None)
    people["pending"] = await User.get(id=pending.id)
    request_a = await Membership.create(user=people["pending"], organisation=org_a)
    outsider = await make_user(Role.BIDDER)
    await User.filter(id=outsider.id).update(organisation_id=None)
    request_b = await Membership.create(user=outsider, organisation=org_b)
    colleague = await make_user(Role.BIDDER, organisation=org_a)
    member_b = await make_user(Role.BIDDER, organisation=org_b, is_org_manager=True)

    campaign = await make_campaign()
    need_a = await make_need(organisation=org_a, campaign=campaign, status=NeedStatus.SUBMITTED)
    need_b = await make_need(organisation=org_b, campaign=campaign, status=NeedStatus.SUBMITTED)
    drafts = [await make_need(organisation=org, campaign=campaign, status=NeedStatus.DRAFT) for org in (org_a, org_b)]
    leavers = [await make_user(Role.BIDDER, organisation=org) for org in (org_a, org_b)]
    need_files = []
    draft_files = []
    for need, files in ((need_a, need_files), (need_b, need_files), (drafts[0], draft_files), (drafts[1], draft_files)):
        blob = await store_file(storage, tiny_pdf(f"need {need.id}"), "pdf", "application/pdf")
        files.append(await attach(blob=blob, owner=need, filename="需求附件.pdf"))

    challenge = await make_challenge()
    bid_a, _bidder, version_a = await make_submitted(settings, challenge=challenge, bidder=people["bidder"])
    bid_b, _other, version_b = await make_submitted(settings, challenge=challenge, bidder=member_b)
    bid_files = [await Attachment.filter(owner_type="bid", owner_id=bid.id).first() for bid in (bid_a, bid_b)]
    version_blobs = [json.loads(v.document)["content"]["attachments"][0]["blob_id"] for v in (version_a, version_b)]
    question = await Question.create(challenge=challenge, asked_by=member_b, body="申报条件中的“牵头单位”指什么？")
    guide = await attach(blob=await store_file(storage, tiny_pdf("guide"), "pdf", "application/pdf"), owner=challenge,
                         filename="申报指南.pdf", category="guide")

    review = await make_review_challenge()
    review_bid = await make_review_bid(review)
    await make_submitted_version(review_bid, storage=storage,
                                 files=[("proposal", "申报书.pdf", tiny_pdf("review"), "pdf", "application/pdf")])
    second_expert = await make_expert()
    panel = await make_panel(challenge=review, experts=[people["expert"], second_expert])
    own_task = await assign(panel, review_bid, people["expert"])
    other_task = await assign(panel, await make_review_bid(review), second_expert)
    declarations = [await ConflictDeclaration.create(expert=expert, kind=ConflictKind.PERSON, name="张三",
                                                     reason="师生关系") for expert in (people["expert"], second_expert)]
    identities = {}
    for role, person in people.items():
        if person is not None:
            identities[role] = await LinkedIdentity.create(user=person, issuer="https://sso.example", subject=role)
    other_identity = await LinkedIdentity.create(user=member_b, issuer="https://sso.example", subject="member-b")

    # Results: a notice in its period; an objection with evidence by each signed-in person and by
    # a bidder of the noticed challenge (someone else's), filed through the service.
    results = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await open_notice(results)
    objected = {}
    for role, person in [*people.items(), ("other", results.bidders[1])]:
        if person is not None:
            evidence = await upload_from_bytes(storage, field="file", filename="证明材料.pdf",
                                               data=tiny_pdf(f"objection by {role}"))
            objection = await objections.file_objection(
                notice=notice, user=person, real_name="周研究员", contact="13800000000",
                reasons="第一名的中试装置实际规模与申报书不符。", uploads=[evidence], storage=storage)
            objected[role] = (objection.id, (await objections.evidence(objection))[0].id)

    delivery = await build_delivery(settings, storage, people["bidder"], member_b)
    promotion = await build_promotion(settings)

    # Supply: a published and a draft offer in A and in B; a 对接 on A's offer (asked by B, so A's
    # members answer it) and one on B's offer asked by a third organisation (A takes no part).
    offers = {org.id: await make_offer(organisation=org) for org in (org_a, org_b)}
    draft_offers = {org.id: await make_offer(organisation=org, status=OfferStatus.DRAFT) for org in (org_a, org_b)}
    org_c = await make_org(name="第三方单位")
    need_c = await make_need(organisation=org_c, campaign=campaign, status=NeedStatus.SUBMITTED)
    contact_a = await make_contact(offer=offers[org_a.id], need=need_b)
    contact_b = await make_contact(offer=offers[org_b.id], need=need_c)

    world.shared.update(campaign_id=campaign.id, challenge_id=challenge.id, question_id=question.id,
                        document_id=guide.id,
                        review_challenge_id=review.id, panel_id=panel.id, number=1, version=1, token="x" * 43,
                        fmt="csv", kind="scores", decision="reject", notice_id=notice.id,
                        decision_id=notice.decision_id, results_panel_id=results.panel.id,
                        results_challenge_id=results.challenge.id, **delivery.shared, **promotion)
    world.own.update(org_id=org_a.id, need_id=need_a.id, need_attachment_id=need_files[0].id, bid_id=bid_a.id,
                     draft_need_id=drafts[0].id, draft_attachment_id=draft_files[0].id, leaver_id=leavers[0].id,
                     bid_attachment_id=bid_files[0].id, blob_id=version_blobs[0], membership_id=request_a.id,
                     user_id=colleague.id, assignment_id=own_task.id, declaration_id=declarations[0].id,
                     identities=identities, objections=objected, offer_id=offers[org_a.id].id,
                     draft_offer_id=draft_offers[org_a.id].id, contact_id=contact_a.id, **delivery.own)
    world.other.update(org_id=org_b.id, need_id=need_b.id, need_attachment_id=need_files[1].id, bid_id=bid_b.id,
                       draft_need_id=drafts[1].id, draft_attachment_id=draft_files[1].id, leaver_id=leavers[1].id,
                       bid_attachment_id=bid_files[1].id, blob_id=version_blobs[1], membership_id=request_b.id,
                       user_id=member_b.id, assignment_id=other_task.id, declaration_id=declarations[1].id,
                       identity_id=other_identity.id, objection_id=objected["other"][0],
                       objection_attachment_id=objected["other"][1], offer_id=offers[org_b.id].id,
                       draft_offer_id=draft_offers[org_b.id].id, contact_id=contact_b.id, **delivery.other)
    return world


async def build_delivery(settings, storage, team_a: User, team_b: User) -> World:
    """Delivery objects of organisation A's and B's teams: a racing bid with its stage deliverable
    (a version with a file), a project with a milestone report (a version with a file); shared: a
    stage, a tranche, a project's review panel and a published acceptance result."""
    found = World()
    race = await make_race(teams=0)
    stage = race.stages[0]
    for side, team in (("own", team_a), ("other", team_b)):
        await team.fetch_related("organisation")
        bid = await make_bid(challenge=race.challenge, lead_org=team.organisation, status=BidStatus.IN_REVIEW)
        report = await upload_from_bytes(storage, field="files", filename="阶段报告.pdf", data=tiny_pdf(f"{side} stage"))
        version = await deliverables.submit_deliverable(bid=bid, stage=stage, actor=team, report="小试报告",
                                                        uploads=[report], storage=storage)
        made = await make_project(settings, team=team)
        milestone = made.milestones[0]
        upload = await upload_from_bytes(storage, field="files", filename="进展.pdf", data=tiny_pdf(f"{side} report"))
        await reports.submit_report(project=made.project, milestone=milestone, actor=team, text="进展",
                                    uploads=[upload], storage=storage)
        getattr(found, side).update(race_bid_id=bid.id, version_id=version.id, project_id=made.project.id,
                                    milestone_id=milestone.id, report_id=(await milestone.report).id)
    project = await Project.get(id=found.other["project_id"]).select_related("challenge")
    tranche = await FundingTranche.create(project=project, planned_wan=100, planned_on=project.started_at.date())
    panel = await Panel.create(challenge=project.challenge, purpose=PanelPurpose.ACCEPTANCE, name="验收专家组",
                               status=PanelStatus.CONCLUDED)
    review = await ProjectReview.create(project=project, panel=panel, acceptance_report=await AcceptanceReport.create(
        project=project, round=1))
    published = await ReviewResult.create(review=review, project=project, outcome=Outcome.PASSED, opinion="通过",
                                          published=True, recorded_at=project.started_at)
    open_panel = await Panel.create(challenge=project.challenge, purpose=PanelPurpose.MIDTERM, name="中期评估专家组",
                                    status=PanelStatus.CONCLUDED)
    await ProjectReview.create(project=project, panel=open_panel)
    found.shared.update(stage_id=stage.id, tranche_id=tranche.id, result_id=published.id,
                        project_panel_id=open_panel.id)
    return found


async def build_promotion(settings) -> dict:
    """A published catalogue (entry and version 1), an open round with a proposed candidate, and a
    round in its notice with an objection."""
    from challenge.promotion import rounds
    from challenge.results import services as result_services
    from challenge.web.timefmt import now_utc
    from factories.promotion import evaluating_round, fields_for, make_accepted, open_round, published_catalogue

    await published_catalogue(settings)
    opened = await open_round()
    project = await make_accepted(settings)
    candidate = await rounds.propose_candidate(round_=opened.round, project=project.project, actor=opened.organiser,
                                               domain_id=opened.domain.id, **fields_for(project))
    noticed = await evaluating_round(settings, names=("钢渣矿化固碳技术",))
    notice = await rounds.publish_notice(round_=noticed.round, actor=noticed.organiser,
                                         recommended_ids=[noticed.candidates[0].id], working_days=5,
                                         starts_on=result_services.default_start(now_utc()))
    objection = await objections.file_objection(notice=notice, user=await make_user(), real_name="周研究员",
                                                contact="13800000000", reasons="固碳量数据与检测报告不一致。",
                                                now=notice.published_at)
    return {"round_id": opened.round.id, "candidate_id": candidate.id, "catalogue_notice_id": notice.id,
            "catalogue_objection_id": objection.id}


# Routes that need a query parameter to name their object.
QUERIES = {
    "/bids/new": "?challenge_id={challenge_id}",
    "/bids/manage/export": "?challenge_id={challenge_id}",
    "/bids/manage/attachments.zip": "?challenge_id={challenge_id}",
    "/needs/new": "?campaign={campaign_id}",
    "/catalogue/rounds/{round_id}/offer": "?offer_id={offer_id}",
}
# Fields a POST needs to name its object (the rest of the form is left empty).
FORMS = {"/needs/new": {"campaign_id": "{campaign_id}"}, "/bids/new": {}}


def form_for(template: str, world: World) -> dict:
    return {name: value.format(**world.shared) for name, value in FORMS.get(template, {}).items()}


def fill(path: str, world: World, role: str, side: str) -> str:
    """The path with its parameters set to the own or the other organisation's objects."""
    values = {**world.shared, **(world.own if side == "own" else world.other)}
    path += QUERIES.get(path, "")
    if path.startswith("/needs/{need_id}/") and not path.startswith("/needs/{need_id}/screen") and (
            path.endswith(("/edit", "/submit", "/delete"))):
        # What a submitter changes is a draft (a submitted need is no longer theirs to edit).
        values["need_id"], values["need_attachment_id"] = values["draft_need_id"], values["draft_attachment_id"]
    if path.startswith("/supply/{offer_id}/") and path.endswith(("/edit", "/submit", "/withdraw")):
        values["offer_id"] = values["draft_offer_id"]  # what an owner changes is a draft
    if path.endswith("/remove") and "{user_id}" in path:
        values["user_id"] = values["leaver_id"]  # removed for good: the other member routes keep theirs
    if side == "own":
        identity = world.own["identities"].get(role)
        values["identity_id"] = identity.id if identity else world.other["identity_id"]
        values["objection_id"], values["objection_attachment_id"] = world.own["objections"].get(
            role, (world.other["objection_id"], world.other["objection_attachment_id"]))
    if path.startswith("/review/manage/challenges/"):
        values["challenge_id"] = world.shared["review_challenge_id"]
    if path.startswith("/results/"):
        values["challenge_id"] = world.shared["results_challenge_id"]
        values["panel_id"] = world.shared["results_panel_id"]
        values["attachment_id"] = values["objection_attachment_id"]
    if path.startswith("/catalogue/"):
        values["notice_id"] = world.shared["catalogue_notice_id"]
        values["objection_id"] = world.shared["catalogue_objection_id"]
    if path.startswith("/delivery/bids/"):
        values["bid_id"] = values["race_bid_id"]  # a team racing on a horse race
    if path.startswith("/delivery/panels/"):
        values["panel_id"] = world.shared["project_panel_id"]  # a project's review, concluded
    if "/attachments/" in path:
        values["attachment_id"] = values["need_attachment_id" if path.startswith("/needs") else "bid_attachment_id"]
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def is_scoped(path: str) -> bool:
    """Whether the path (or its query) names an object that belongs to an organisation or a person."""
    path += QUERIES.get(path, "")
    return any("{" + name in path for name in ("org_id", "need_id", "bid_id", "membership_id", "user_id",
                                                   "assignment_id", "declaration_id", "identity_id",
                                                   "objection_id", "project_id", "version_id", "report_id",
                                                   "offer_id", "contact_id"))


__all__ = ["ROLES", "World", "build", "fill", "is_scoped", "Bid"]
