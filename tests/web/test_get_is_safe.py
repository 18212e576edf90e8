"""No GET changes state: every GET route of the app, as each kind of person, leaves the database as it was."""

import logging
import re

import pytest

from challenge.accounts.models import Role, User
from challenge.mail.services import notify
from factories import make_bid, make_challenge, make_need, make_user
from factories.web import changed_tables, get_paths, snapshot

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


class WriteLog(logging.Handler):
    """Every INSERT/UPDATE/DELETE the ORM sends while active (one log record per statement)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self.logger = logging.getLogger("tortoise.db_client")

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if WRITE.match(message):
            self.statements.append(message)

    def __enter__(self) -> "WriteLog":
        self.level_before = self.logger.level
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level_before)


@pytest.fixture
async def people():
    organiser = await make_user(Role.ORGANISER)
    submitter = await make_user(Role.SUBMITTER, Role.BIDDER)
    expert = await make_user(Role.EXPERT)
    # A new single sign-on account: a bidder with no organisation yet.
    newcomer = await make_user(Role.BIDDER)
    await User.filter(id=newcomer.id).update(organisation_id=None)
    await make_need(organisation=submitter.organisation)
    await make_bid(challenge=await make_challenge(), lead_org=submitter.organisation)
    return {"organiser": organiser, "submitter": submitter, "expert": expert, "newcomer": newcomer}


@pytest.mark.parametrize("who", ["anonymous", "organiser", "submitter", "expert", "newcomer"])
async def test_get_routes_change_nothing_and_never_fail(app, client, people, who):
    if who != "anonymous":
        await client.login(people[who].email)
    before = await snapshot()
    errors = []
    with WriteLog() as writes:
        for path in get_paths(app):
            if path.startswith("/static"):
                continue
            writes.statements.clear()
            response = await client.get(path)
            if response.status_code >= 500:
                errors.append(f"{path}: {response.status_code}")
            if writes.statements:
                errors.append(f"GET {path} wrote: {writes.statements[0][:120]}")
    assert errors == []
    assert changed_tables(before, await snapshot()) == []


async def test_reading_the_inbox_does_not_mark_it_read(client, people):
    """Marking read is a POST (/inbox/read); opening the page must not do it."""
    user = people["submitter"]
    await notify(user=user, subject="需求已受理", email=False)
    await client.login(user.email)
    assert (await client.get("/inbox")).status_code == 200
    assert await user.notifications.filter(read_at__isnull=True).count() == 1

