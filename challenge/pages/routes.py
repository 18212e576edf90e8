"""Public pages that belong to no single area. The challenges area adds the list and feed."""

from starlette.requests import Request
from starlette.routing import Route

from challenge.web.templating import render


async def home(request: Request):
    return render(request, "pages/home.html", {})


routes = [
    Route("/", home, name="home"),
]
