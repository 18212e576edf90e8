"""Public pages that belong to no single area: home, results, and the Atom feed."""

from urllib.parse import urlsplit
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from challenge.audit.services import current_head
from challenge.challenges import routes as challenge_routes
from challenge.challenges import services as challenges
from challenge.challenges.models import RESULT_CHALLENGE_STATES, Challenge
from challenge.web.i18n import _
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render
from challenge.web.timefmt import now_utc

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 50
# Each source returns FeedEntry rows; later areas (result notices) append theirs here.
FEED_SOURCES = [challenges.feed_entries]


async def home(request: Request):
    now = now_utc()
    counts = await challenges.public_counts_by_domain()
    return render(request, "pages/home.html", {
        "open_challenges": await challenges.open_challenges(now=now),
        "domain_counts": counts,
        "public_total": sum(n for _domain, n in counts),
        "now": now,
    })


async def results(request: Request):
    query = (Challenge.filter(status__in=list(RESULT_CHALLENGE_STATES)).order_by("-updated_at", "-id")
             .select_related("domain").prefetch_related("issuers"))
    page = await paginate(query, page_number(request.query_params.get("page")))
    return render(request, "pages/results.html", {"page": page, "now": now_utc(), "audit_head": await current_head()})


def _tag(base_url: str, key: str) -> str:
    """A permanent entry id (RFC 4151 tag URI) that survives a change of the site's address scheme."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},2025:{key}"


def atom_feed(*, base_url: str, entries, updated) -> bytes:
    ElementTree.register_namespace("", ATOM_NS)

    def sub(parent, name, text=None, **attrs):
        element = ElementTree.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ElementTree.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", _tag(base_url, "feed"))
    sub(feed, "title", _("绿色技术揭榜挂帅平台：榜单与公告"))
    sub(feed, "subtitle", _("新发布的榜单、补充通知与结果公示"))
    sub(feed, "updated", updated.isoformat())
    sub(feed, "link", rel="self", href=f"{base_url}/feed.atom", type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=f"{base_url}/challenges", type="text/html")
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


async def feed(request: Request):
    entries = []
    for source in FEED_SOURCES:
        entries.extend(await source(FEED_LIMIT))
    entries = sorted(entries, key=lambda e: e.updated, reverse=True)[:FEED_LIMIT]
    updated = entries[0].updated if entries else now_utc()
    body = atom_feed(base_url=request.app.state.settings.base_url, entries=entries, updated=updated)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


routes = [
    Route("/", home, name="home"),
    # /challenges itself (the mount answers /challenges/...): the public list, without a redirect.
    Route("/challenges", challenge_routes.challenge_list, name="challenge_list"),
    Route("/results", results, name="results"),
    Route("/feed.atom", feed, name="feed"),
]
