"""The needs part of `challenge demo`: every status, all six domains, real PDFs, a sound audit chain."""

import io

import pikepdf

from challenge.accounts import passwords
from challenge.audit.services import verify_chain
from challenge.demo import base
from challenge.demo import needs as demo_needs
from challenge.files.models import Attachment
from challenge.files.storage import make_storage
from challenge.needs.models import Campaign, CampaignStatus, Need, NeedStatus
from challenge.needs.permissions import is_campaign_open


async def test_demo_needs(db, settings):
    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    ctx = await base.load()
    await demo_needs.load(ctx, settings)

    needs = await Need.all().select_related("organisation", "campaign")
    assert len(needs) >= 12
    assert {n.status for n in needs} == set(NeedStatus)
    assert len({n.domain_id for n in needs}) == 6
    assert len({n.organisation.name for n in needs}) >= 6
    assert {"江苏省工业和信息化厅", "中国钢铁工业节能减排协会", "宝武低碳冶金科技有限公司", "华能清洁能源集团有限公司",
            "广东省循环经济协会", "内蒙古自治区鄂尔多斯市生态环境局"} <= {n.organisation.name for n in needs}

    campaigns = await Campaign.all()
    assert sorted(c.status for c in campaigns) == sorted([CampaignStatus.OPEN, CampaignStatus.CLOSED])
    open_campaign = next(c for c in campaigns if c.status == CampaignStatus.OPEN)
    assert is_campaign_open(open_campaign) and open_campaign.instructions

    accepted = ctx.extra["accepted_needs"]
    assert len(accepted) >= 4 and all(n.status == NeedStatus.ACCEPTED for n in accepted)
    assert {n.id for n in accepted} == {n.id for n in needs if n.status == NeedStatus.ACCEPTED}

    merged = next(n for n in needs if n.status == NeedStatus.MERGED)
    target = await Need.get(id=merged.merged_into_id)
    assert target.campaign_id == merged.campaign_id and target.status == NeedStatus.ACCEPTED
    for n in needs:
        if n.status in {NeedStatus.RETURNED, NeedStatus.REJECTED}:
            assert n.status_reason
        if n.status != NeedStatus.DRAFT:
            assert n.submitted_at is not None and n.campaign.opens_at <= n.submitted_at <= n.campaign.closes_at

    attachments = await Attachment.filter(owner_type="need").select_related("blob")
    assert len(attachments) >= 2
    storage = make_storage(settings)
    for attachment in attachments:
        data = b"".join([chunk async for chunk in storage.read(attachment.blob.storage_key)])
        assert len(data) == attachment.blob.size and attachment.filename.endswith(".pdf")
        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert len(pdf.pages) == 1

    for email in ("submitter@demo.cn", "association@demo.cn", "enterprise@demo.cn", "huaneng@demo.cn",
                  "gdce@demo.cn", "ordos@demo.cn"):
        assert ctx.users[email].is_submitter
    assert (await verify_chain()).ok
