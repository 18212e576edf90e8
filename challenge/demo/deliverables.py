"""Demo stage deliverables: the teams racing on the 富氢高炉 track (`race`) handed in their first
stage's report and files before its deadline (the reviews demo then reviews them at the gate);
its second stage is open. Through the delivery services, at explicit times before the deadline."""

from datetime import timedelta

from challenge.accounts.models import User
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Stage
from challenge.delivery import deliverables
from challenge.demo.bids import tiny_pdf, upload_from_bytes
from challenge.files.storage import make_storage

REPORTS = [
    "小试装置完成 12 炉次富氢喷吹试验：喷吹量 420 立方米/吨铁时风口区温度稳定，吨铁碳排放较基准降低 31%。"
    "附物料平衡、热平衡计算和关键参数记录。",
    "完成富氢煤气喷吹与炉顶煤气循环耦合小试，循环比 0.35 时焦比下降 18%；喷吹量达到 380 立方米/吨铁，"
    "略低于阶段考核要求，已分析原因并提出改进方案。",
    "建立高炉数字孪生模型并经 8 炉次试验校核，富氢喷吹方案可放大性评估完成；吨铁碳排放降低 33%，"
    "附放大设计参数与风险分析。",
]


async def load(ctx, settings) -> None:
    challenge = (ctx.extra.get("challenges") or {}).get("race")
    if challenge is None:
        return
    stage = await Stage.get(challenge=challenge, position=0)
    storage = make_storage(settings)
    bids = await Bid.filter(challenge=challenge, status=BidStatus.IN_REVIEW).order_by("id")
    for index, bid in enumerate(bids):
        team = await User.filter(organisation_id=bid.lead_org_id, is_bidder=True).order_by("id") \
            .select_related("organisation").first()
        report = await upload_from_bytes(storage, field="files", filename="小试试验报告.pdf",
                                         data=tiny_pdf(f"Stage 1 report of bid {bid.id}"))
        await deliverables.submit_deliverable(bid=bid, stage=stage, actor=team, report=REPORTS[index % len(REPORTS)],
                                              uploads=[report], storage=storage,
                                              now=stage.due_at - timedelta(days=5 - index))
