"""Forming the bid panel opens the review: the challenge moves to 评审中, audit-logged."""

from datetime import timedelta

import pytest

from challenge.audit.models import AuditEntry
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.errors import InvalidTransition
from challenge.web.timefmt import now_utc
from factories import make_challenge
from factories.reviews import make_expert, make_panel


@pytest.mark.parametrize("status", [ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED])
async def test_panel_moves_a_closed_challenge_to_reviewing(db, status):
    challenge = await make_challenge(status=status, closes_at=now_utc() - timedelta(minutes=1))
    await make_panel(challenge=challenge, experts=[await make_expert(), await make_expert()])
    assert (await Challenge.get(id=challenge.id)).status == ChallengeStatus.REVIEWING
    actions = await AuditEntry.filter(object_type="challenge", object_id=str(challenge.id)).values_list(
        "action", flat=True)
    assert "challenge.reviewing" in actions


async def test_no_panel_while_bids_are_still_open(db):
    challenge = await make_challenge(status=ChallengeStatus.PUBLISHED, closes_at=now_utc() + timedelta(days=1))
    with pytest.raises(InvalidTransition):
        await make_panel(challenge=challenge, experts=[await make_expert()])
    assert (await Challenge.get(id=challenge.id)).status == ChallengeStatus.PUBLISHED
