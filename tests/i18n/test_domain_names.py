"""Domains show their English name to English readers (the names are data, not catalog strings)."""

from challenge.catalog.models import Domain
from factories import domains, make_challenge


async def test_domain_names_follow_the_reader_language(client):
    await domains()
    await make_challenge()  # a public challenge in 负碳及温室气体减排
    chinese = (await client.get("/")).text
    assert "负碳及温室气体减排" in chinese
    await client.submit("/locale", {"locale": "en", "next": "/"})
    english = (await client.get("/")).text
    name_en = (await Domain.get(name="负碳及温室气体减排")).name_en
    assert name_en and name_en in english
    assert "负碳及温室气体减排" not in english
    assert name_en in (await client.get("/challenges")).text
