"""Seed a large benchmark data set fast: bulk inserts through the ORM, not per-row services.

    .venv/bin/python bench/seed.py --bids 100000            # the data set of the issue's "100k bids"
    .venv/bin/python bench/seed.py --bids 1000              # the panel alone (the "1k bids" point)

Reads the database and data folder from the usual CHALLENGE_* variables. The schema comes from the
models (`generate_schemas`), so point it at an empty database. What it writes, at `--bids N`:

- a programme office account (`organiser@bench.cn`), three experts (`expert1..3@bench.cn`,
  `expert1` chairs) and a bidder (`bidder@bench.cn`), all with the password `bench-password-2025`;
- 1,000 approved universities (each bid's lead organisation; a challenge takes one bid from each);
- N / 10 challenges (at least 20; N = 100,000 gives the issue's 10,000), published and open, and
  one in review whose panel has 1,000 bids, 3 experts and 6 criteria, every review submitted;
- N needs in one campaign (100,000 at N = 100,000);
- N bids: the panel's 1,000 in review, the rest submitted, spread over the other challenges;
- about 2.5 scores per bid (250,000 at N = 100,000): every panel bid is scored by the 3 experts on
  6 criteria, and so are the bids of further panels until the count is reached;
- one proposal attachment per panel bid, stored as a 5 MB sparse file (`--attachment-mb`);
- `bench.json` in the data folder with the ids the benchmark needs.

Bids are not run through the services (that would take hours at this size); the states written
are ones the services reach (submitted, in review with submitted assignments).
"""

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

PASSWORD = "bench-password-2025"
ORGS = 1000
PANEL_BIDS = 1000
CRITERIA = 6
EXPERTS = 3
SCORES_PER_BID = 2.5
BATCH = 2000


async def bulk(model, rows: list, batch: int = BATCH) -> None:
    for start in range(0, len(rows), batch):
        await model.bulk_create(rows[start:start + batch])


async def seed(*, bids: int, attachment_mb: int) -> dict:
    from tortoise import Tortoise, connections
    from tortoise.context import TortoiseContext

    from challenge import db
    from challenge.accounts import passwords
    from challenge.accounts.models import Organisation, OrgStatus, OrgType, User
    from challenge.bids.models import Bid, BidStatus
    from challenge.catalog.models import Domain
    from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism, RubricCriterion
    from challenge.challenges.search import build_search_text
    from challenge.files.models import Attachment, Blob
    from challenge.files.storage import new_key
    from challenge.needs.models import Campaign, CampaignStatus, Need, NeedStatus
    from challenge.reviews.models import (
        Assignment, AssignmentStatus, ExpertProfile, Panel, PanelBid, PanelMember, PanelStatus, Score,
    )
    from challenge.settings import load_settings
    from challenge.web.timefmt import now_utc

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    passwords.configure(time_cost=1, memory_kib=1024)
    challenges_n = max(20, bids // 10)
    now = now_utc()
    async with TortoiseContext():
        await Tortoise.init(config=db.tortoise_config(settings))
        await Tortoise.generate_schemas()
        connection = connections.get("default")
        postgres = db.is_postgres(db.database_url(settings))
        if not postgres:
            # A throwaway database: trade durability for a seed that takes seconds.
            await connection.execute_script("PRAGMA synchronous=OFF")

        domain = await Domain.create(name="基准领域", name_en="Benchmark domain")
        office = await Organisation.create(name="基准项目管理办公室", org_type=OrgType.GOVERNMENT, region_code="110000",
                                           status=OrgStatus.APPROVED)
        # The bidder's own university bids on nothing seeded: its drafts take the upload measurement.
        uploader = await Organisation.create(name="基准上传大学", org_type=OrgType.UNIVERSITY, region_code="110000",
                                             status=OrgStatus.APPROVED)
        await bulk(Organisation, [
            Organisation(id=uploader.id + n, name=f"基准大学{n:04d}", org_type=OrgType.UNIVERSITY,
                         region_code="110000", status=OrgStatus.APPROVED)
            for n in range(1, ORGS + 1)])
        org_ids = [uploader.id + n for n in range(1, ORGS + 1)]
        digest = passwords.hash_password(PASSWORD)
        organiser = await User.create(email="organiser@bench.cn", name="基准管理员", organisation=office,
                                      is_organiser=True, password_hash=digest)
        experts = [await User.create(email=f"expert{n}@bench.cn", name=f"基准专家{n}", is_expert=True,
                                     password_hash=digest) for n in range(1, EXPERTS + 1)]
        await bulk(ExpertProfile, [ExpertProfile(user=e, organisation_name="基准研究院") for e in experts])
        bidder = await User.create(email="bidder@bench.cn", name="基准申报人", organisation=uploader,
                                   is_bidder=True, password_hash=digest)

        campaign = await Campaign.create(title="基准需求征集", opens_at=now - timedelta(days=60),
                                         closes_at=now + timedelta(days=60), status=CampaignStatus.OPEN)
        needs = [Need(campaign=campaign, organisation=office, domain=domain, title=f"基准技术需求 {n}",
                      bottleneck="共性技术瓶颈描述。" * 5, status=NeedStatus.SUBMITTED, submitted_at=now)
                 for n in range(bids)]
        await bulk(Need, needs, batch=5000)

        first = (await Challenge.create(
            mechanism=Mechanism.OPEN_CALL, title="基准评审榜单（1000 份申报）", summary="评审基准", domain=domain,
            status=ChallengeStatus.REVIEWING, opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=30),
            published_at=now - timedelta(days=90), experts_per_bid=EXPERTS, funding_wan=Decimal(5000),
            search_text=build_search_text("基准评审榜单（1000 份申报）", "评审基准", "", ""))).id
        rows = []
        for n in range(1, challenges_n):
            title = f"绿色低碳关键技术攻关 第{n}号"
            summary = "面向重点行业节能降碳的共性关键技术，公开征集揭榜团队。"
            rows.append(Challenge(
                id=first + n, mechanism=Mechanism.HORSE_RACE if n % 5 == 0 else Mechanism.OPEN_CALL, title=title,
                summary=summary, description="榜单详细说明。" * 20, domain=domain, status=ChallengeStatus.PUBLISHED,
                opens_at=now - timedelta(days=10), closes_at=now + timedelta(days=30 + n % 60),
                published_at=now - timedelta(minutes=n), funding_wan=Decimal(1000 + n % 3000),
                search_text=build_search_text(title, summary, "", "")))
        await bulk(Challenge, rows)
        challenge_ids = [first + n for n in range(challenges_n)]

        # Bids: the panel's 1,000 first (lead organisations 1..1000), then the rest spread over the
        # other challenges, one per organisation and challenge.
        panel_bid_count = min(PANEL_BIDS, bids)
        first_bid = 1 + (await Bid.all().count())
        rows, bid_challenge = [], []
        for n in range(bids):
            if n < panel_bid_count:
                challenge_id, org_id, status = first, org_ids[n], BidStatus.IN_REVIEW
            else:
                k = n - panel_bid_count
                slot = challenge_ids[1 + k % (challenges_n - 1)]
                challenge_id, org_id, status = slot, org_ids[(k // (challenges_n - 1)) % ORGS], BidStatus.SUBMITTED
            rows.append(Bid(id=first_bid + n, challenge_id=challenge_id, lead_org_id=org_id,
                            title=f"基准申报 {n}",
                            approach="技术路线。" * 10, status=status, current_version=1, submitted_at=now,
                            commitment_accepted=True))
            bid_challenge.append(challenge_id)
        await bulk(Bid, rows, batch=5000)

        # Panels: the 1,000-bid panel, then panels over further challenges until the scores are there.
        target_scores = int(bids * SCORES_PER_BID)
        scored_bids = min(bids, max(panel_bid_count, target_scores // (EXPERTS * CRITERIA)))
        bids_of: dict[int, list[int]] = {}
        for n in range(scored_bids):
            bids_of.setdefault(bid_challenge[n], []).append(first_bid + n)
        criteria_rows, panel_rows, member_rows, panel_bid_rows = [], [], [], []
        first_panel = 1 + (await Panel.all().count())
        first_criterion = 1 + (await RubricCriterion.all().count())
        criteria_of: dict[int, list[int]] = {}
        for index, (challenge_id, its_bids) in enumerate(bids_of.items()):
            ids = []
            for position in range(CRITERIA):
                ids.append(first_criterion + len(criteria_rows))
                criteria_rows.append(RubricCriterion(
                    id=ids[-1], challenge_id=challenge_id, position=position, name=f"评审指标 {position + 1}",
                    weight=[20, 20, 20, 15, 15, 10][position], max_score=100))
            criteria_of[challenge_id] = ids
            panel_id = first_panel + index
            panel_rows.append(Panel(id=panel_id, challenge_id=challenge_id, name=f"基准评审组 {index + 1}",
                                    status=PanelStatus.REVIEWING, due_at=now + timedelta(days=7),
                                    confirmed_at=now, created_by=organiser))
            member_rows += [PanelMember(panel_id=panel_id, expert=e, is_chair=position == 0, is_deputy=position == 1)
                            for position, e in enumerate(experts)]
            panel_bid_rows += [PanelBid(panel_id=panel_id, bid_id=bid_id, code=_code(position), position=position)
                               for position, bid_id in enumerate(its_bids)]
        await bulk(RubricCriterion, criteria_rows)
        await bulk(Panel, panel_rows)
        await bulk(PanelMember, member_rows)
        await bulk(PanelBid, panel_bid_rows, batch=5000)
        panel_of = {row.bid_id: row.panel_id for row in panel_bid_rows}

        first_assignment = 1 + (await Assignment.all().count())
        assignment_rows, score_rows = [], []
        for n in range(scored_bids):
            bid_id = first_bid + n
            for e_index, expert in enumerate(experts):
                assignment_id = first_assignment + len(assignment_rows)
                assignment_rows.append(Assignment(
                    id=assignment_id, panel_id=panel_of[bid_id], bid_id=bid_id, expert=expert,
                    status=AssignmentStatus.SUBMITTED, submitted_at=now, opinion="同意。"))
                for c_index, criterion_id in enumerate(criteria_of[bid_challenge[n]]):
                    value = 60 + (n * 7 + e_index * 13 + c_index * 5) % 40
                    score_rows.append(Score(assignment_id=assignment_id, criterion_id=criterion_id,
                                            value=Decimal(value), comment=""))
        await bulk(Assignment, assignment_rows, batch=5000)
        await bulk(Score, score_rows, batch=5000)

        if postgres:
            # Rows were written with their ids: move each sequence past them before rows without.
            for table in ("organisation", "challenge", "bid", "rubric_criterion", "review_panel",
                          "review_assignment"):
                await connection.execute_script(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")

        # One proposal per panel bid: a sparse file of the attachment size, never read by the pages.
        blob_rows, attachment_rows = [], []
        size = attachment_mb * 1024 * 1024
        upload_root = settings.upload_dir
        for n in range(panel_bid_count):
            key = new_key()
            path = upload_root / key[:2] / key[2:4] / key
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.truncate(size)
            blob_rows.append(Blob(sha256=hashlib.sha256(key.encode()).hexdigest(), size=size, kind="pdf",
                                  content_type="application/pdf", storage_key=key))
        await bulk(Blob, blob_rows)
        blob_ids = {blob.storage_key: blob.id for blob in await Blob.all()}
        for n, blob in enumerate(blob_rows):
            attachment_rows.append(Attachment(blob_id=blob_ids[blob.storage_key], owner_type="bid",
                                              owner_id=first_bid + n, category="proposal",
                                              filename=f"申报书-{n}.pdf", uploaded_by=bidder))
        await bulk(Attachment, attachment_rows)

        # The bidder's open drafts, one per challenge, for the upload measurement.
        draft_rows = [Bid(challenge_id=first + n, lead_org=uploader, created_by=bidder, title="基准上传草稿")
                      for n in range(1, min(challenges_n, 41))]
        await bulk(Bid, draft_rows)
        draft_ids = [b.id for b in await Bid.filter(title="基准上传草稿").order_by("id")]

        # Statistics for the planner, and on PostgreSQL the visibility map its index-only scans
        # need (what autovacuum gives a database that has been running).
        await connection.execute_script("VACUUM ANALYZE" if connection.capabilities.dialect == "postgres"
                                        else "ANALYZE")
        facts = {
            "bids": bids, "challenges": challenges_n, "needs": bids, "scores": len(score_rows),
            "panel_id": first_panel, "panel_challenge_id": first, "public_challenge_id": first + 1,
            "draft_bid_ids": draft_ids, "organiser": organiser.email, "expert": experts[0].email,
            "bidder": bidder.email, "password": PASSWORD,
        }
        (settings.data_dir / "bench.json").write_text(json.dumps(facts, indent=2))
        await Tortoise.close_connections()
    return facts


def _code(position: int) -> str:
    """Blind codes A..Z, AA..ZZ, AAA..: unique within the panel."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bids", type=int, default=50000)
    parser.add_argument("--attachment-mb", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    facts = asyncio.run(seed(bids=args.bids, attachment_mb=args.attachment_mb))
    print(f"seeded {facts['challenges']} challenges, {facts['needs']} needs, {facts['bids']} bids, "
          f"{facts['scores']} scores in {time.perf_counter() - started:.1f} s "
          f"({os.environ.get('CHALLENGE_DATABASE_URL') or 'SQLite'})")


if __name__ == "__main__":
    main()
