"""Technology offers applied to a catalogue round by their owners, and evaluated by the same
review machinery as project candidates: conflicts with the offer's organisation, a rubric,
the trimmed mean; then the notice and the published catalogue."""

from datetime import timedelta
from decimal import Decimal

import pytest

from challenge.accounts.models import Organisation, Role
from challenge.audit.models import AuditEntry
from challenge.challenges.models import Aggregation
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.promotion import rounds
from challenge.promotion.models import (
    Candidate,
    CandidateSource,
    CandidateStatus,
    CatalogueEntry,
    CatalogueRound,
    RoundStatus,
)
from challenge.results import services as results
from challenge.reviews import chairing
from challenge.reviews import queries as review_queries
from challenge.reviews import services as reviews
from challenge.reviews.commands import verify_results
from challenge.reviews.models import Assignment, AssignmentStatus, ConflictDeclaration, ConflictKind, Panel
from challenge.supply.models import OfferStatus
from challenge.web.timefmt import now_utc
from factories import PASSWORD, domains, make_organiser, make_user
from factories.promotion import applied_offer, evaluating_round, open_round
from factories.reviews import make_expert, submit
from factories.supply import make_offer


async def applying(made, offer, actor, **overrides):
    fields = await rounds.offer_fields(offer)
    fields.update({"domain_id": made.domain.id, **overrides})
    return await rounds.apply_offer(round_=made.round, offer=offer, actor=actor, **fields)


async def test_the_owner_applies_a_published_offer_with_its_fields_carried_over(db, settings):
    made = await open_round()
    owner = await make_user(Role.BIDDER)
    offer = await make_offer(organisation=await owner.organisation, energy_saved_tce="1200")
    candidate = await applying(made, offer, owner)
    assert candidate.source == CandidateSource.OFFER and candidate.offer_id == offer.id
    assert candidate.organisation_id == offer.organisation_id and candidate.status == CandidateStatus.PROPOSED
    assert candidate.name == offer.name and candidate.core_process == offer.core_process
    assert candidate.parameters == [{"name": "处理能力", "value": "500", "unit": "t/d"}]
    assert "1200" in candidate.benefits and offer.benefits_text in candidate.benefits
    entry = await AuditEntry.get(action="catalogue_candidate.apply", object_id=str(candidate.id))
    assert entry.after["offer_id"] == offer.id
    with pytest.raises(DomainError):  # once per round
        await applying(made, offer, owner)
    assert await Candidate.filter(round_id=made.round.id).count() == 1


async def test_only_the_owner_applies_only_a_published_offer_only_while_the_round_is_open(db, settings):
    made = await open_round(deadline_days=1)
    owner = await make_user(Role.BIDDER)
    offer = await make_offer(organisation=await owner.organisation)
    for stranger in (await make_user(Role.BIDDER), made.organiser):
        with pytest.raises(PermissionDenied):
            await applying(made, offer, stranger)
    draft = await make_offer(organisation=await owner.organisation, status=OfferStatus.SUBMITTED)
    with pytest.raises(InvalidTransition):
        await applying(made, draft, owner)
    with pytest.raises(InvalidTransition):  # after the deadline
        await applying(made, offer, owner, now=now_utc() + timedelta(days=2))
    with pytest.raises(DomainError) as missing:
        await applying(made, offer, owner, scope="", domain_id=None)
    assert {"scope", "domain"} <= set(missing.value.errors)
    made.round.status = RoundStatus.EVALUATING
    with pytest.raises(InvalidTransition):
        await applying(made, offer, owner)
    assert not await Candidate.exists()


async def test_the_owner_applies_from_the_offer_page_through_http(client, make_client, settings):
    made = await open_round()
    owner = await make_user(Role.BIDDER)
    offer = await make_offer(organisation=await owner.organisation)
    await client.login(owner.email, PASSWORD)
    page = await client.get(f"/supply/{offer.id}")
    url = f"/catalogue/rounds/{made.round.id}/offer?offer_id={offer.id}"
    assert page.status_code == 200 and url.replace("&", "&amp;") in page.text and made.round.title in page.text
    assert url in (await client.get(f"/catalogue/rounds/{made.round.id}")).text
    form = await client.get(url)
    assert form.status_code == 200 and offer.core_process in form.text and 'value="500"' in form.text
    data = {"name": "烧结烟气低温脱硝技术", "domain": str(made.domain.id), "scope": "", "core_process": "低温 SCR",
            "benefits": "脱硝效率 90%", "param-0-name": "处理能力", "param-0-value": "500", "param-0-unit": "t/d",
            "form_token": "o" * 30}
    bad = await client.submit(url, data)
    assert bad.status_code == 400 and "烧结烟气低温脱硝技术" in bad.text and 'id="error-scope"' in bad.text
    assert not await Candidate.exists()
    data["scope"] = "钢铁烧结机烟气"
    done = await client.submit(url, data)
    again = await client.submit(url, data)  # a double click
    assert done.status_code == 303 and done.headers["location"] == f"/supply/{offer.id}#catalogue"
    assert again.status_code == 303 and await Candidate.filter(offer_id=offer.id).count() == 1
    candidate = await Candidate.get(offer_id=offer.id)
    assert candidate.name == "烧结烟气低温脱硝技术" and candidate.scope == "钢铁烧结机烟气"
    assert CandidateStatus.PROPOSED.label in (await client.get(f"/supply/{offer.id}")).text
    # Someone else: refused; the office sees the candidate to screen it.
    stranger = make_client()
    await stranger.login((await make_user(Role.BIDDER)).email, PASSWORD)
    assert (await stranger.get(url)).status_code == 403
    assert url.replace("&", "&amp;") not in (await stranger.get(f"/supply/{offer.id}")).text
    office = make_client()
    await office.login(made.organiser.email, PASSWORD)
    assert "烧结烟气低温脱硝技术" in (await office.get(f"/catalogue/manage/rounds/{made.round.id}")).text


async def test_an_expert_of_the_offers_organisation_or_declared_conflicted_never_evaluates_it(db, settings):
    made = await open_round()
    candidate = await applied_offer(made)
    await rounds.start_evaluation(round_=made.round, actor=made.organiser)
    holder = await Organisation.get(id=candidate.organisation_id)
    colleague = await make_expert(organisation=holder)
    declared = await make_expert()
    await ConflictDeclaration.create(expert=declared, kind=ConflictKind.ORGANISATION, organisation=holder,
                                     reason="曾为该单位提供咨询")
    free, other = await make_expert(), await make_expert()
    members = [free.id, other.id, colleague.id, declared.id]
    with pytest.raises(DomainError) as uncovered:  # a conflicted chair needs a deputy who is not
        await rounds.form_evaluation(candidate=candidate, actor=made.organiser, name="技术评价专家组",
                                     member_ids=members, chair_id=colleague.id, deputy_id=None, due_at=None,
                                     dispersion_threshold=15)
    assert "deputy" in uncovered.value.errors
    panel = await rounds.form_evaluation(candidate=candidate, actor=made.organiser, name="技术评价专家组",
                                         member_ids=members, chair_id=free.id, deputy_id=None, due_at=None,
                                         dispersion_threshold=15)
    assert panel.challenge_id is None and panel.holder_id == holder.id and panel.purpose == "evaluation"
    assert [c.name for c in await reviews.rubric_of(panel)] == [row["name"] for row in rounds.EVALUATION_RUBRIC]
    pool = {row["user"].id: row["conflicts"] for row in await review_queries.pool_with_conflicts(
        None, holder_id=holder.id)}
    assert pool[colleague.id] == pool[declared.id] == 1 and pool[free.id] == 0
    await reviews.propose_assignments(panel=panel, actor=made.organiser)
    assert set(await Assignment.filter(panel=panel).values_list("expert_id", flat=True)) == {free.id, other.id}
    for conflicted in (colleague, declared):
        with pytest.raises(DomainError) as refused:
            await reviews.add_assignment(panel=panel, bid_id=None, expert_id=conflicted.id, actor=made.organiser)
        assert "利益冲突" in refused.value.message
    # A conflict that appears during the review revokes the task.
    await reviews.confirm_assignments(panel=panel, actor=made.organiser)
    await ConflictDeclaration.create(expert=other, kind=ConflictKind.ORGANISATION, organisation=holder)
    revoked = await reviews.recheck_expert(expert=other)
    assert [a.expert_id for a in revoked] == [other.id]
    assert (await Assignment.get(panel=panel, expert=other)).status == AssignmentStatus.REVOKED


async def test_an_offer_goes_through_evaluation_and_notice_into_the_catalogue(db, settings):
    made = await open_round()
    candidate = await applied_offer(made, name="钢铁烧结烟气低温脱硝技术")
    await rounds.start_evaluation(round_=made.round, actor=made.organiser)
    experts = [await make_expert() for _ in range(5)]
    panel = await rounds.form_evaluation(candidate=candidate, actor=made.organiser, name="技术评价专家组",
                                         member_ids=[e.id for e in experts], chair_id=experts[0].id, deputy_id=None,
                                         due_at=None, dispersion_threshold=Decimal("30"))
    await reviews.propose_assignments(panel=panel, actor=made.organiser)
    await reviews.confirm_assignments(panel=panel, actor=made.organiser)
    with pytest.raises(DomainError):  # the opinion waits for every score
        await reviews.record_opinion(panel=panel, actor=experts[0], text="同意", recommended_ids=[])
    for expert, score in zip(experts, (50, 70, 80, 90, 100)):
        await submit(await Assignment.get(panel=panel, expert=expert), [score] * 5)
    rows = await rounds.evaluation(await CatalogueRound.get(id=made.round.id))
    assert rows[0].panel.id == panel.id and not rows[0].concluded
    await reviews.record_opinion(panel=panel, actor=experts[0], text="技术先进，同意推荐", recommended_ids=[])
    (row,) = await rounds.evaluation(await CatalogueRound.get(id=made.round.id))
    assert row.concluded and row.experts == 5 and row.score == Decimal("80.00")  # trimmed: 50 and 100 dropped
    notice = await rounds.publish_notice(round_=await CatalogueRound.get(id=made.round.id), actor=made.organiser,
                                         recommended_ids=[candidate.id], working_days=1,
                                         starts_on=results.default_start(now_utc()))
    assert (await Candidate.get(id=candidate.id)).status == CandidateStatus.RECOMMENDED
    await rounds.publish_round(round_=await CatalogueRound.get(id=made.round.id), actor=made.organiser,
                               now=notice.ends_at + timedelta(minutes=1))
    entry = await CatalogueEntry.get(candidate_id=candidate.id)
    holder = await Organisation.get(id=candidate.organisation_id)
    assert entry.name == "钢铁烧结烟气低温脱硝技术" and entry.holder == holder.name and entry.number == 1
    assert (await Candidate.get(id=candidate.id)).status == CandidateStatus.LISTED


async def test_the_offers_evaluation_through_the_review_pages(client, make_client, settings):
    made = await open_round()
    candidate = await applied_offer(made, name="钢铁烧结烟气低温脱硝技术")
    await rounds.start_evaluation(round_=made.round, actor=made.organiser)
    holder = await Organisation.get(id=candidate.organisation_id)
    colleague = await make_expert(organisation=holder)
    chair, other = await make_expert(), await make_expert()
    await client.login(made.organiser.email, PASSWORD)
    url = f"/catalogue/manage/candidates/{candidate.id}/panel"
    page = await client.get(url)
    assert page.status_code == 200 and colleague.name in page.text
    members = [("members", str(e.id)) for e in (chair, other, colleague)]
    formed = await client.submit(url, [("name", "脱硝技术评价专家组"), *members, ("chair", str(chair.id)),
                                       ("dispersion_threshold", "20")])
    assert formed.status_code == 303
    panel_url = formed.headers["location"]
    panel = await Panel.get(name="脱硝技术评价专家组")
    assert panel_url == f"/review/manage/panels/{panel.id}" and panel.holder_id == holder.id
    assert holder.name in (await client.get(panel_url)).text
    assert (await client.submit(f"{panel_url}/propose")).status_code == 303
    assign = await client.get(f"{panel_url}/assign")
    assert assign.status_code == 200 and holder.name in assign.text and "本人所在单位是该技术的持有单位" in assign.text
    refused = await client.submit(f"{panel_url}/assign", {"bid": "", "expert": str(colleague.id)})
    assert refused.status_code == 400 and "利益冲突" in refused.text
    assert (await client.submit(f"{panel_url}/confirm")).status_code == 303
    tasks = {a.expert_id: a for a in await Assignment.filter(panel=panel)}
    assert set(tasks) == {chair.id, other.id}
    criteria = await reviews.rubric_of(panel)
    for expert, score in ((chair, "85"), (other, "75")):
        browser = make_client()
        await browser.login(expert.email, PASSWORD)
        listing = await browser.get("/review/")
        assert listing.status_code == 200 and "脱硝技术评价专家组" in listing.text
        task_url = f"/review/assignments/{tasks[expert.id].id}"
        task = await browser.get(task_url)
        assert task.status_code == 200 and "钢铁烧结烟气低温脱硝技术" in task.text and "技术先进性" in task.text
        assert holder.name in task.text
        form = {f"score_{c.id}": score for c in criteria} | {"opinion": "同意推荐", "action": "submit"}
        assert (await browser.submit(task_url, form)).status_code == 303
    intruder = make_client()
    await intruder.login(colleague.email, PASSWORD)
    assert (await intruder.get(f"/review/assignments/{tasks[chair.id].id}")).status_code == 404
    chairing = make_client()
    await chairing.login(chair.email, PASSWORD)
    desk = await chairing.get(f"/review/panels/{panel.id}")
    assert desk.status_code == 200 and "80.00" in desk.text
    assert (await chairing.submit(f"/review/panels/{panel.id}/opinion", {"text": "技术先进，同意推荐"})).status_code == 303
    ranking = await client.get(f"{panel_url}/ranking")
    assert ranking.status_code == 200 and "80.00" in ranking.text and holder.name in ranking.text
    for kind in ("ranking", "scores"):
        assert (await client.get(f"{panel_url}/export/{kind}.csv")).status_code == 200
    desk = await client.get(f"/catalogue/manage/rounds/{made.round.id}")
    assert desk.status_code == 200 and "80.00" in desk.text


async def test_project_and_offer_candidates_are_scored_on_the_rounds_rubric(db, settings):
    made = await evaluating_round(settings, names=("钢渣矿化固碳技术",), scores=(70,))
    project_panel = await Panel.get(id=made.candidates[0].panel_id)
    names = [row["name"] for row in made.round.rubric]
    assert names == [row["name"] for row in rounds.EVALUATION_RUBRIC]
    assert [c.name for c in await reviews.rubric_of(project_panel)] == names
    assert project_panel.aggregation == Aggregation.TRIMMED_MEAN and project_panel.challenge_id is not None
    (row,) = await rounds.evaluation(made.round)
    assert row.score == Decimal("70.00")
    # `challenge verify-results` recomputes the project panel on its own rubric and rule.
    lines = []
    assert await verify_results(project_panel.challenge_id, out=lines.append) == 0, lines


async def test_the_organiser_states_the_rounds_rubric_on_its_form(client, settings):
    organiser = await make_organiser()
    await client.login(organiser.email, PASSWORD)
    page = await client.get("/catalogue/manage/rounds/new")
    assert page.status_code == 200 and 'name="rubric-0-name" value="技术先进性"' in page.text
    form = {"year": "2027", "title": "2027年度推广目录遴选", "conditions": "通过验收或审核发布的成果",
            "deadline": (now_utc() + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M"),
            "domains": str((await domains())[0].id),
            "rubric-0-name": "先进性", "rubric-0-weight": "60", "rubric-0-guidance": "关键指标水平",
            "rubric-1-name": "经济性", "rubric-1-weight": "30"}
    bad = await client.submit("/catalogue/manage/rounds/new", form)
    assert bad.status_code == 400 and 'id="error-rubric"' in bad.text and 'value="先进性"' in bad.text
    assert not await CatalogueRound.exists()
    done = await client.submit("/catalogue/manage/rounds/new", {**form, "rubric-1-weight": "40"})
    assert done.status_code == 303
    round_ = await CatalogueRound.get()
    assert round_.rubric == [{"name": "先进性", "weight": 60, "max_score": 100, "guidance": "关键指标水平"},
                             {"name": "经济性", "weight": 40, "max_score": 100, "guidance": ""}]


async def test_a_chair_employed_by_the_holder_is_covered_by_the_deputy(db, settings):
    made = await open_round()
    candidate = await applied_offer(made)
    await rounds.start_evaluation(round_=made.round, actor=made.organiser)
    colleague = await make_expert(organisation=await Organisation.get(id=candidate.organisation_id))
    deputy, other = await make_expert(), await make_expert()
    panel = await rounds.form_evaluation(candidate=candidate, actor=made.organiser, name="技术评价专家组",
                                         member_ids=[colleague.id, deputy.id, other.id], chair_id=colleague.id,
                                         deputy_id=deputy.id, due_at=None, dispersion_threshold=15)
    await reviews.propose_assignments(panel=panel, actor=made.organiser)
    await reviews.confirm_assignments(panel=panel, actor=made.organiser)
    assert set(await Assignment.filter(panel=panel).values_list("expert_id", flat=True)) == {deputy.id, other.id}
    for expert in (deputy, other):
        await submit(await Assignment.get(panel=panel, expert=expert), [80] * 5)
    roles = await chairing.chairing_of(panel)
    assert roles.hidden_from(colleague.id) == {None} and roles.opinion_by == deputy.id
    with pytest.raises(PermissionDenied):
        await reviews.record_opinion(panel=panel, actor=colleague, text="同意", recommended_ids=[])
    await reviews.record_opinion(panel=panel, actor=deputy, text="同意推荐", recommended_ids=[])
    (row,) = await rounds.evaluation(await CatalogueRound.get(id=made.round.id))
    assert row.concluded and row.score == Decimal("80.00")
