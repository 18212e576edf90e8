import httpx
from tortoise.context import TortoiseContext

from challenge.app import create_app
from challenge.db import MODEL_MODULES


async def test_healthz_reports_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_503_when_database_is_unreachable(settings, tmp_path):
    unreachable = "postgres://nobody@127.0.0.1:1/none"  # nothing listens on port 1
    config = {"connections": {"default": unreachable},
              "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}}}
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        app = create_app(settings, manage_orm=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


async def test_unknown_page_is_a_404_page(client):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text
