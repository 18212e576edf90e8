"""A real server killed with SIGKILL mid-upload and mid-submission: no partial file, no half-saved bid.

The upload streams into the process's own locked folder for unfinished files; the next start
finds that folder's lock free (its process is gone) and removes it. A submission is one
transaction: it is either all there (version, receipt, status, audit entry) or not at all.
"""

import asyncio

import httpx
import pytest

from challenge.audit.models import AuditEntry
from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.bids.services import verify_version
from challenge.files.models import Attachment, Blob
from conftest import Client
from factories.bids import make_complete_drafts
from factories.servers import BACKEND, LiveServer, with_orm_on
from factories.uploads import BOUNDARY, CONTENT_TYPE, PDF, part_header

pytestmark = pytest.mark.slow
MB = 1024 * 1024


def partial_files(database) -> list:
    return sorted((database.folder / "data" / "uploads" / "tmp").rglob("*.part"))


def seed(database, count: int) -> list[tuple[str, int]]:
    async def work(settings):
        _challenge, drafts = await make_complete_drafts(settings, count)
        return [(bidder.email, bid.id) for bidder, bid in drafts]

    return asyncio.run(with_orm_on(database, work))


def record_counts(database) -> tuple[int, int]:
    async def work(settings):
        return await Blob.all().count(), await Attachment.all().count()

    return asyncio.run(with_orm_on(database, work))


def verify_all(cli) -> None:
    assert "audit chain intact" in cli("audit", "verify").stdout
    assert ", 0 mismatch(es)" in cli("verify-receipts").stdout
    assert ", 0 problem(s)" in cli("storage", "check").stdout


async def slow_attachment_body(token: str, total: int):
    yield part_header("csrf_token") + token.encode() + b"\r\n"
    yield part_header("category") + b"proposal\r\n"
    yield part_header("file", "大文件申报书.pdf") + PDF
    for _ in range(total // MB):
        yield b"\0" * MB
        await asyncio.sleep(0.02)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def upload_until_killed(server: LiveServer, database, email: str, bid_id: int) -> int:
    async with Client(base_url=server.url, timeout=60) as http:
        await http.login(email)
        token = await http.csrf()
        upload = asyncio.create_task(http.post(f"/bids/{bid_id}/attachments", content=slow_attachment_body(token, 150 * MB),
                                               headers={"content-type": CONTENT_TYPE}))
        size = 0
        for _ in range(600):
            assert not upload.done(), "the upload ended before the kill"
            size = max((path.stat().st_size for path in partial_files(database)), default=0)
            if size > 3 * MB:
                break
            await asyncio.sleep(0.05)
        server.kill()
        with pytest.raises(httpx.TransportError):
            await upload
    return size


def test_a_server_killed_mid_upload_leaves_no_partial_file_and_no_record(database, migrated, cli):
    [(email, bid_id)] = seed(database, 1)
    before = record_counts(database)
    server = LiveServer(database).start()
    try:
        written = asyncio.run(upload_until_killed(server, database, email, bid_id))
    finally:
        server.stop()
    assert written > 3 * MB, "the kill must come in the middle of the file"
    assert partial_files(database), "the killed process could not clean up after itself"
    assert record_counts(database) == before
    with LiveServer(database, port=server.port) as restarted:
        assert partial_files(database) == []  # the start swept the dead process's folder
        assert httpx.get(f"{restarted.url}/healthz").status_code == 200
    assert record_counts(database) == before
    verify_all(cli)


async def submit_all_and_kill(server: LiveServer, drafts: list[tuple[str, int]]) -> list:
    clients = [Client(base_url=server.url, timeout=60) for _ in drafts]
    try:
        for http, (email, _bid_id) in zip(clients, drafts):
            await http.login(email)
        tokens = [await http.csrf() for http in clients]

        async def submit(http, token, bid_id):
            return await http.post(f"/bids/{bid_id}/submit", data={"csrf_token": token})

        tasks = [asyncio.create_task(submit(http, token, bid_id))
                 for http, token, (_email, bid_id) in zip(clients, tokens, drafts)]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)  # some answered, the rest in flight
        server.kill()
        return await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for http in clients:
            await http.aclose()


def submissions_state(database, bid_ids: list[int]) -> dict:
    async def work(settings):
        state = {}
        for bid in await Bid.filter(id__in=bid_ids):
            versions = await BidVersion.filter(bid_id=bid.id)
            audited = await AuditEntry.filter(object_type="bid", object_id=str(bid.id), action="bid.submit").count()
            state[bid.id] = (bid.status, bid.current_version, len(versions), all(map(verify_version, versions)), audited)
        return state

    return asyncio.run(with_orm_on(database, work))


def test_a_server_killed_mid_submission_leaves_no_half_saved_bid(database, migrated, cli):
    drafts = seed(database, 40)
    server = LiveServer(database, workers=2 if BACKEND == "postgres" else 1).start()
    try:
        outcomes = asyncio.run(submit_all_and_kill(server, drafts))
    finally:
        server.stop()
    answered = {bid_id for (_email, bid_id), outcome in zip(drafts, outcomes) if isinstance(outcome, httpx.Response)}
    assert [(o.status_code, o.text[:3000]) for o in outcomes if isinstance(o, httpx.Response) and o.status_code != 303] == []
    cut_off = [outcome for outcome in outcomes if isinstance(outcome, httpx.TransportError)]
    assert answered and cut_off, "the kill must come while submissions are in flight"

    state = submissions_state(database, [bid_id for _email, bid_id in drafts])
    for bid_id, (status, current, versions, receipts_ok, audited) in state.items():
        if status == BidStatus.SUBMITTED:
            assert (current, versions, receipts_ok, audited) == (1, 1, True, 1), bid_id
        else:
            assert (status, current, versions, audited) == (BidStatus.DRAFT, 0, 0, 0), bid_id
        if bid_id in answered:
            assert status == BidStatus.SUBMITTED  # what the bidder was told is durable
    verify_all(cli)

    # After a restart the bidders whose submission was cut off simply submit again.
    waiting = [(email, bid_id) for email, bid_id in drafts if state[bid_id][0] == BidStatus.DRAFT]
    if waiting:
        with LiveServer(database) as restarted:
            async def resubmit():
                async with Client(base_url=restarted.url) as http:
                    await http.login(waiting[0][0])
                    return await http.submit(f"/bids/{waiting[0][1]}/submit", {})
            assert asyncio.run(resubmit()).status_code == 303
        verify_all(cli)
