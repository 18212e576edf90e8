"""`challenge serve`: links follow the served address, and JSON-lines logs on request."""

import email
import email.policy
import json
import logging
import sys

import pytest

from challenge.logs import JsonFormatter
from conftest import Client
from factories.servers import BACKEND, LiveServer


def _mail_bodies(folder) -> list[str]:
    bodies = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        bodies += [part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"]
    return bodies


@pytest.mark.db_independent
async def test_mailed_and_feed_links_follow_the_port_the_server_was_started_on(database, migrated, cli):
    cli("create-admin", "--email", "office@example.cn", "--password", "office-passw0rd")
    with LiveServer(database) as server:
        assert server.port != 8000
        async with Client(base_url=server.url) as http:
            feed = await http.get("/feed.atom")
            assert f'href="{server.url}/feed.atom"' in feed.text
            response = await http.submit("/password/forgot", {"email": "office@example.cn"})
            assert response.status_code == 303
    [body] = [b for b in _mail_bodies(database.folder / "data" / "outbox") if "/password/reset/" in b]
    assert f"{server.url}/password/reset/" in body and ":8000" not in body


@pytest.mark.db_independent
async def test_a_configured_base_url_wins(database, migrated, cli):
    with LiveServer(database, CHALLENGE_BASE_URL="https://challenge.example.cn") as server:
        async with Client(base_url=server.url) as http:
            feed = await http.get("/feed.atom")
    assert 'href="https://challenge.example.cn/feed.atom"' in feed.text and server.url not in feed.text


@pytest.mark.db_independent
async def test_json_log_format_writes_access_and_error_lines_as_json(database, migrated, cli):
    with LiveServer(database, CHALLENGE_LOG_FORMAT="json") as server:
        async with Client(base_url=server.url) as http:
            assert (await http.get("/no-such-page")).status_code == 404
            assert (await http.get("/challenges?q=%E7%A2%B3")).status_code == 200
    access = [json.loads(line) for line in server.out.read_text().splitlines()]
    assert {"method": "GET", "path": "/no-such-page", "status": 404} == {
        key: entry[key] for entry in access if entry["path"] == "/no-such-page" for key in ("method", "path", "status")}
    assert any(entry["path"] == "/challenges?q=%E7%A2%B3" and entry["status"] == 200 for entry in access)
    assert all(entry["logger"] == "uvicorn.access" and entry["time"].endswith("+00:00") for entry in access)
    others = [json.loads(line) for line in server.err.read_text().splitlines()]
    assert any("Application startup complete" in entry["message"] for entry in others)


def test_an_error_line_carries_the_request_and_the_traceback():
    formatter = JsonFormatter()
    logging.captureWarnings(False)  # the formatter turns it on for a server process, not for pytest
    try:
        raise RuntimeError("数据库写入失败")
    except RuntimeError:
        record = logging.LogRecord("challenge.app", logging.ERROR, __file__, 1, "unhandled error on %s %s",
                                   ("POST", "/bids/1/submit"), sys.exc_info())
    record.method, record.path = "POST", "/bids/1/submit"
    entry = json.loads(formatter.format(record))
    assert entry["level"] == "error" and entry["message"] == "unhandled error on POST /bids/1/submit"
    assert entry["method"] == "POST" and entry["path"] == "/bids/1/submit"
    assert "RuntimeError: 数据库写入失败" in entry["error"]


@pytest.mark.skipif(BACKEND != "sqlite", reason="PostgreSQL serves several workers")
def test_sqlite_refuses_several_workers(database, cli):
    refused = cli("serve", "--workers", "2", expect=2)
    assert "SQLite serves one worker" in refused.stderr and "PostgreSQL" in refused.stderr
