"""/feed.atom: valid Atom 1.0 with new challenges and amendments, parsed by a standard feed reader."""

from xml.etree import ElementTree

import feedparser

from challenge.challenges import services
from factories import make_organiser
from factories.challenges import make_draft, make_published


async def test_feed_parses_with_entries_for_challenges_and_amendments(client):
    empty = feedparser.parse((await client.get("/feed.atom")).content)
    assert not empty.bozo and empty.version == "atom10" and empty.entries == []
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await make_draft(actor=organiser, title="草稿不进订阅")
    data = await services.load_data(challenge)
    data.summary = "更新后的简介 <b>与特殊字符</b> & 符号"
    await services.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation="更新简介 & 说明")

    response = await client.get("/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    ElementTree.fromstring(response.content)  # well-formed XML
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.title.startswith("绿色技术揭榜挂帅平台")
    assert feed.feed.id and feed.feed.updated
    assert len(feed.entries) == 2
    amendment, published = feed.entries  # newest first
    assert amendment.title == f"补充通知（第 2 版）：{challenge.title}"
    assert amendment.summary == "更新简介 & 说明"
    assert amendment.link == f"http://testserver/challenges/{challenge.id}#amendment-2"
    assert published.title == f"发布榜单：{challenge.title}"
    assert published.link == f"http://testserver/challenges/{challenge.id}"
    for entry in feed.entries:
        assert entry.id.startswith("tag:testserver,2025:") and entry.updated_parsed
    assert len({entry.id for entry in feed.entries}) == 2
    assert "草稿不进订阅" not in response.text
