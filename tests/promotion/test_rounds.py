"""A catalogue round: candidates from accepted projects (their achieved values carried over),
screening, technical evaluation by a panel of the reviews area, the notice with objections,
and publication into the numbered catalogue."""

from datetime import timedelta

import pytest

from challenge.accounts.models import Organisation
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.promotion import rounds
from challenge.promotion.models import (
    Candidate,
    CandidateStatus,
    CatalogueEntry,
    CatalogueRound,
    RoundStatus,
)
from challenge.results import objections
from challenge.results import services as results
from challenge.results.models import NoticeStatus
from challenge.reviews import services as reviews
from challenge.reviews.models import Assignment
from challenge.web.timefmt import now_utc
from factories import make_user
from factories.promotion import evaluating_round, fields_for, make_accepted, open_round, published_catalogue
from factories.reviews import make_expert


async def test_the_team_proposes_its_accepted_project_with_its_achieved_values(db, settings):
    made = await open_round()
    project = await make_accepted(settings, achieved="97.5")
    carried = await rounds.carried_parameters(project.project)
    assert carried and all(p["value"] == "97.5" for p in carried)
    candidate = await rounds.propose_candidate(round_=made.round, project=project.project, actor=project.team,
                                               domain_id=made.domain.id, **{**fields_for(project), "parameters": carried})
    assert candidate.status == CandidateStatus.PROPOSED and candidate.parameters == carried
    with pytest.raises(DomainError):  # once per round
        await rounds.propose_candidate(round_=made.round, project=project.project, actor=made.organiser,
                                       domain_id=made.domain.id, **fields_for(project))
    assert await Candidate.filter(round_id=made.round.id).count() == 1


async def test_a_project_not_accepted_or_someone_else_cannot_propose(db, settings):
    made = await open_round()
    project = await make_accepted(settings)
    stranger = await make_user()
    with pytest.raises(PermissionDenied):
        await rounds.propose_candidate(round_=made.round, project=project.project, actor=stranger,
                                       domain_id=made.domain.id, **fields_for(project))
    project.project.status = "active"
    with pytest.raises(InvalidTransition):
        await rounds.propose_candidate(round_=made.round, project=project.project, actor=made.organiser,
                                       domain_id=made.domain.id, **fields_for(project))
    with pytest.raises(DomainError) as missing:
        project.project.status = "accepted"
        await rounds.propose_candidate(round_=made.round, project=project.project, actor=made.organiser,
                                       domain_id=made.domain.id, **{**fields_for(project), "scope": ""})
    assert "scope" in missing.value.errors
    assert not await Candidate.exists()


async def test_the_team_cannot_propose_after_the_deadline(db, settings):
    made = await open_round(deadline_days=1)
    project = await make_accepted(settings)
    with pytest.raises(InvalidTransition):
        await rounds.propose_candidate(round_=made.round, project=project.project, actor=project.team,
                                       domain_id=made.domain.id, now=now_utc() + timedelta(days=2),
                                       **fields_for(project))


async def test_the_evaluation_panel_never_takes_an_expert_of_the_candidates_organisation(db, settings):
    made = await open_round()
    project = await make_accepted(settings)
    candidate = await rounds.propose_candidate(round_=made.round, project=project.project, actor=made.organiser,
                                               domain_id=made.domain.id, **fields_for(project))
    with pytest.raises(DomainError):  # a refusal needs its reason
        await rounds.screen_candidate(candidate=candidate, actor=made.organiser, eligible=False, note="")
    await rounds.screen_candidate(candidate=candidate, actor=made.organiser, eligible=True, note="")
    await rounds.start_evaluation(round_=made.round, actor=made.organiser)
    colleague = await make_expert(organisation=await Organisation.get(id=project.bid.lead_org_id))
    free = await make_expert()
    panel = await rounds.form_evaluation(candidate=await Candidate.get(id=candidate.id), actor=made.organiser,
                                         name="技术评价专家组", member_ids=[free.id, colleague.id], chair_id=free.id,
                                         deputy_id=None, due_at=None, dispersion_threshold=15)
    assert panel.purpose == "evaluation"
    await reviews.propose_assignments(panel=panel, actor=made.organiser)
    assert set(await Assignment.filter(panel=panel).values_list("expert_id", flat=True)) == {free.id}


async def test_the_notice_lists_the_proposed_entries_and_publication_numbers_them(db, settings):
    made = await evaluating_round(settings, names=("高效低成本二氧化碳捕集技术", "钢渣固碳技术"), scores=(70, 90))
    first, second = made.candidates
    with pytest.raises(DomainError):
        await rounds.publish_notice(round_=made.round, actor=made.organiser, recommended_ids=[], working_days=5,
                                    starts_on=results.default_start(now_utc()))
    notice = await rounds.publish_notice(round_=made.round, actor=made.organiser, recommended_ids=[first.id, second.id],
                                         working_days=5, starts_on=results.default_start(now_utc()))
    assert notice.challenge_id is None and notice.kind == "catalogue"
    round_ = await CatalogueRound.get(id=made.round.id)
    assert round_.status == RoundStatus.NOTICE and round_.notice_id == notice.id
    with pytest.raises(InvalidTransition):  # the period is running
        await rounds.publish_round(round_=round_, actor=made.organiser)
    version = await rounds.publish_round(round_=round_, actor=made.organiser, now=notice.ends_at + timedelta(hours=1))
    entries = list(await CatalogueEntry.all().order_by("number"))
    # Numbered by the evaluation's score, best first.
    assert [(e.number, e.name) for e in entries] == [(1, "钢渣固碳技术"), (2, "高效低成本二氧化碳捕集技术")]
    assert version.number == 1 and version.entries_count == 2
    assert (await CatalogueRound.get(id=made.round.id)).status == RoundStatus.PUBLISHED
    assert {c.status for c in await Candidate.all()} == {CandidateStatus.LISTED}


async def test_an_upheld_objection_withdraws_the_notice_and_the_round_is_evaluated_again(db, settings):
    made = await evaluating_round(settings)
    notice = await rounds.publish_notice(round_=made.round, actor=made.organiser,
                                         recommended_ids=[made.candidates[0].id], working_days=5,
                                         starts_on=results.default_start(now_utc()))
    objector = await make_user()
    objection = await objections.file_objection(notice=notice, user=objector, real_name="周研究员",
                                                contact="13800000000", reasons="该技术的捕集率与检测报告不符。",
                                                now=notice.published_at)
    with pytest.raises(InvalidTransition):  # an objection is open
        await rounds.publish_round(round_=await CatalogueRound.get(id=made.round.id), actor=made.organiser,
                                   now=notice.ends_at + timedelta(hours=1))
    await objections.answer_objection(objection=objection, actor=made.organiser, upheld=True, answer="经核实成立",
                                      remedy=objections.Remedy.NEW_DECISION)
    await notice.refresh_from_db()
    assert notice.status == NoticeStatus.SUPERSEDED
    round_ = await CatalogueRound.get(id=made.round.id)
    assert round_.status == RoundStatus.EVALUATING
    assert (await Candidate.get(id=made.candidates[0].id)).status == CandidateStatus.ELIGIBLE
    revised = await rounds.publish_notice(round_=round_, actor=made.organiser, recommended_ids=[made.candidates[0].id],
                                          working_days=5, starts_on=results.default_start(now_utc()))
    assert revised.revision == 2 and revised.replaces_id == notice.id


async def test_a_published_catalogue_from_the_factory(db, settings):
    made, version = await published_catalogue(settings)
    assert version.entries_count == 1 and made.round.status == RoundStatus.PUBLISHED
