"""Horse-race stage deliverables: handed in by the teams still racing before the stage's deadline,
versioned with receipts; refused by the server after the deadline, with nothing saved."""

import json
from datetime import timedelta

import pytest

from challenge.bids.models import Bid, BidStatus
from challenge.delivery import deliverables, receipts
from challenge.delivery.models import DeliveryVersion, StageDeliverable, VersionKind
from challenge.errors import InvalidTransition, PermissionDenied
from challenge.files.models import Attachment
from factories import PASSWORD
from factories.bids import PDF, storage_of, upload_from_bytes
from factories.delivery import make_race
from factories.uploads import stored_files


async def _pdf(settings, name="小试报告.pdf", field="files"):
    return await upload_from_bytes(storage_of(settings), field=field, filename=name, data=PDF)


async def test_a_racing_team_hands_in_versions_with_receipts(db, settings):
    race = await make_race()
    bid, stage, team = race.bids[0], race.stages[0], race.teams[0]
    first = await deliverables.submit_deliverable(bid=bid, stage=stage, actor=team, report="小试完成，金属化率 93%",
                                                  uploads=[await _pdf(settings)], storage=storage_of(settings))
    assert first.version == 1 and receipts.verify_version(first)
    document = json.loads(first.document)
    assert document["content"]["report"] == "小试完成，金属化率 93%"
    assert document["content"]["stage"]["name"] == "小试验证"
    [file] = document["content"]["attachments"]
    assert file["filename"] == "小试报告.pdf" and len(file["sha256"]) == 64
    deliverable = await StageDeliverable.get(stage=stage, bid=bid)
    attachment = await Attachment.get(owner_type="stagedeliverable", owner_id=deliverable.id)
    second = await deliverables.submit_deliverable(bid=bid, stage=stage, actor=team, report="修订：补充物料平衡",
                                                   remove_ids=[attachment.id], storage=storage_of(settings))
    assert second.version == 2 and json.loads(second.document)["content"]["attachments"] == []
    await deliverable.refresh_from_db()
    assert deliverable.current_version == 2 and deliverable.report == "修订：补充物料平衡"
    assert receipts.verify_version(await DeliveryVersion.get(id=first.id))  # the first version is kept as it was


async def test_after_the_deadline_the_server_refuses_and_saves_nothing(db, settings):
    race = await make_race()
    bid, stage, team = race.bids[0], race.stages[0], race.teams[0]
    upload = await _pdf(settings)
    with pytest.raises(deliverables.DeadlinePassed) as refused:
        await deliverables.submit_deliverable(bid=bid, stage=stage, actor=team, report="迟交的报告", uploads=[upload],
                                              storage=storage_of(settings), now=stage.due_at + timedelta(seconds=1))
    assert "已于" in refused.value.message and "截止" in refused.value.message
    assert not await StageDeliverable.exists() and not await DeliveryVersion.exists()
    assert not await Attachment.filter(owner_type="stagedeliverable").exists()
    assert stored_files(settings.upload_dir) == []  # the upload was discarded
    # One second before the deadline it is accepted.
    version = await deliverables.submit_deliverable(bid=bid, stage=stage, actor=team, report="按时提交",
                                                    storage=storage_of(settings),
                                                    now=stage.due_at - timedelta(seconds=1))
    assert version.version == 1


async def test_only_the_team_of_a_bid_still_racing_hands_in(db, settings):
    race = await make_race()
    stage = race.stages[0]
    with pytest.raises(PermissionDenied):
        await deliverables.submit_deliverable(bid=race.bids[0], stage=stage, actor=race.teams[1], report="冒名")
    await Bid.filter(id=race.bids[1].id).update(status=BidStatus.NOT_SELECTED)
    out = await Bid.get(id=race.bids[1].id)
    with pytest.raises(InvalidTransition):
        await deliverables.submit_deliverable(bid=out, stage=stage, actor=race.teams[1], report="已淘汰")
    assert not await DeliveryVersion.filter(kind=VersionKind.DELIVERABLE).exists()


async def test_the_deliverable_page_refuses_a_late_post_with_the_reason(client, settings):
    race = await make_race()
    bid, stage, team = race.bids[0], race.stages[0], race.teams[0]
    await client.login(team.email, PASSWORD)
    url = f"/delivery/bids/{bid.id}/stages/{stage.id}"
    page = await client.get(url)
    assert page.status_code == 200 and "提交阶段交付物" in page.text and "小试验证报告" in page.text
    response = await client.submit(url, {"report": "小试数据"}, files={"files": ("小试.pdf", PDF, "application/pdf")})
    assert response.status_code == 303 and response.headers["location"].startswith("/delivery/versions/")
    receipt = await client.get(response.headers["location"])
    assert "阶段交付物回执" in receipt.text and "已核验" in receipt.text and "小试.pdf" in receipt.text
    # The deadline passes (moved in the database: the server checks its own clock).
    await type(stage).filter(id=stage.id).update(due_at=stage.due_at - timedelta(days=11))
    late = await client.submit(url, {"report": "迟交"}, files={"files": ("迟交.pdf", PDF, "application/pdf")})
    assert late.status_code == 409
    assert "截止，服务器在截止后收到本次提交，未保存任何内容" in late.text
    assert (await StageDeliverable.get(stage=stage, bid=bid)).current_version == 1
    # Another team's deliverable is not there for them; an organiser sees it but cannot hand it in.
    other = race.teams[1]
    await client.login(other.email, PASSWORD)
    assert (await client.get(url)).status_code == 404
    await client.login(race.organiser.email, PASSWORD)
    assert (await client.get(url)).status_code == 200
