"""Public pages that belong to no single area: home, results, and the Atom feed."""

from urllib.parse import urlsplit
from xml.etree import ElementTree

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from challenge.challenges import routes as challenge_routes
from challenge.challenges import services as challenges
from challenge.challenges.models import Challenge
from challenge.results import queries as results
from challenge.results import routes as result_routes
from challenge.web.i18n import _
from challenge.web.pagecache import public_page
from challenge.web.templating import render
from challenge.web.timefmt import now_utc

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 50
# Each source returns FeedEntry rows, newest first: `source(limit, challenge_id=None)`.
FEED_SOURCES = [challenges.feed_entries, results.feed_entries]


async def home(request: Request):
    now = now_utc()
    counts = await challenges.public_counts_by_domain()
    return render(request, "pages/home.html", {
        "open_challenges": await challenges.open_challenges(now=now),
        "domain_counts": counts,
        "public_total": sum(n for _domain, n in counts),
        "now": now,
    })


def _tag(base_url: str, key: str) -> str:
    """A permanent entry id (RFC 4151 tag URI) that survives a change of the site's address scheme."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},2025:{key}"


def atom_feed(*, base_url: str, entries, updated, path: str = "/feed.atom", key: str = "feed",
              title: str = "", alternate: str = "/challenges") -> bytes:
    ElementTree.register_namespace("", ATOM_NS)

    def sub(parent, name, text=None, **attrs):
        element = ElementTree.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ElementTree.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", _tag(base_url, key))
    sub(feed, "title", title or _("绿色技术揭榜挂帅平台：榜单与公告"))
    sub(feed, "subtitle", _("新发布的榜单、补充通知与结果公示"))
    sub(feed, "updated", updated.isoformat())
    sub(feed, "link", rel="self", href=f"{base_url}{path}", type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=f"{base_url}{alternate}", type="text/html")
    author = sub(feed, "author")
    sub(author, "name", _("绿色技术创新揭榜挂帅项目管理办公室"))
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", _tag(base_url, entry.key))
        sub(item, "title", entry.title)
        sub(item, "updated", entry.updated.isoformat())
        sub(item, "link", rel="alternate", href=f"{base_url}{entry.path}", type="text/html")
        sub(item, "summary", entry.summary or entry.title)
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)


async def _entries(challenge_id: int | None = None) -> list:
    entries = []
    for source in FEED_SOURCES:
        entries.extend(await source(FEED_LIMIT, challenge_id=challenge_id))
    return sorted(entries, key=lambda e: e.updated, reverse=True)[:FEED_LIMIT]


def _atom_response(body: bytes) -> Response:
    return Response(body, media_type="application/atom+xml; charset=utf-8")


async def feed(request: Request):
    entries = await _entries()
    updated = entries[0].updated if entries else now_utc()
    return _atom_response(atom_feed(base_url=request.app.state.settings.base_url, entries=entries, updated=updated))


async def challenge_feed(request: Request):
    """One challenge's feed: its publication, amendments, answers, notices and announcement."""
    challenge = await Challenge.get_or_none(id=request.path_params["challenge_id"])
    if challenge is None or not challenge.is_public:
        raise HTTPException(404)
    entries = await _entries(challenge.id)
    updated = entries[0].updated if entries else challenge.published_at
    return _atom_response(atom_feed(
        base_url=request.app.state.settings.base_url, entries=entries, updated=updated,
        path=f"/challenges/{challenge.id}/feed.atom", key=f"challenge:{challenge.id}:feed",
        title=_("%(title)s：补充通知、答疑与结果", title=challenge.title), alternate=f"/challenges/{challenge.id}"))


routes = [
    Route("/", public_page(home), name="home"),
    # /challenges itself (the mount answers /challenges/...): the public list, without a redirect.
    Route("/challenges", public_page(challenge_routes.challenge_list), name="challenge_list"),
    # /results itself (the mount answers /results/...): notices and announcements.
    Route("/results", result_routes.results_index, name="results_index"),
    Route("/feed.atom", feed, name="feed"),
    Route("/challenges/{challenge_id:int}/feed.atom", challenge_feed, name="challenge_feed"),
]
