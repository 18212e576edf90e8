"""An expert's task list comes a page at a time, with each panel's progress over all his
assignments, in the same number of queries whatever their number."""

from challenge.reviews.models import AssignmentStatus
from challenge.reviews.routes import TASKS_PER_PAGE
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge
from querylog import count_queries


async def _assignments(expert, n: int, *, submitted: int = 0):
    challenge = await make_review_challenge()
    panel = await make_panel(challenge=challenge, experts=[expert], chair=expert)
    for number in range(n):
        status = AssignmentStatus.SUBMITTED if number < submitted else AssignmentStatus.ASSIGNED
        await assign(panel, await make_review_bid(challenge), expert, status=status)
    return panel


async def test_tasks_are_paged_with_the_panels_whole_progress(client):
    expert = await make_expert()
    await _assignments(expert, 3)
    await client.login(expert.email)
    few, _page = await count_queries(client, "/review/")
    await _assignments(expert, TASKS_PER_PAGE + 7, submitted=5)
    many, page = await count_queries(client, "/review/")
    assert many == few
    assert page.count('href="/review/assignments/') == TASKS_PER_PAGE
    assert f"已提交 5 / {TASKS_PER_PAGE + 7}" in page
    second = (await client.get("/review/?page=2")).text
    assert second.count('href="/review/assignments/') == 10  # the 7 left of the big panel, the 3 of the first
    assert "已提交 0 / 3" in second
