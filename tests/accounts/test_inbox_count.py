"""The menu shows the signed-in person's unread inbox items on every page, counted inside the
query that loads the session (no extra query per page), and the count goes when they are read."""

import re

from challenge.mail.models import Notification
from challenge.web.timefmt import now_utc
from factories import make_user
from querylog import captured_sql

COUNT = re.compile(r'href="/inbox">消息 <span class="nav-count">(\d+)<')


async def test_unread_count_in_the_menu(client):
    user = await make_user()
    other = await make_user()
    for n in range(3):
        await Notification.create(user=user, subject=f"通知{n}")
    await Notification.create(user=user, subject="已读", read_at=now_utc())
    await Notification.create(user=other, subject="别人的")
    await client.login(user.email)
    with captured_sql() as statements:
        page = await client.get("/challenges")
    assert COUNT.search(page.text).group(1) == "3"
    counting = [s for s in statements if '"notification"' in s]
    assert len(counting) == 1 and "user_session" in counting[0]  # one query: the session's own

    assert (await client.submit("/inbox/read", {})).status_code == 303
    page = await client.get("/challenges")
    assert 'href="/inbox">消息</a>' in page.text and "nav-count" not in page.text


async def test_no_count_for_visitors(client):
    page = await client.get("/challenges")
    assert "nav-count" not in page.text and 'href="/inbox"' not in page.text
