"""Uploads through the real app's middleware (sessions, CSRF, error pages) on a test-only route."""

import logging

from challenge.accounts.models import Role
from challenge.files.models import Blob
from factories import make_user
from factories.uploads import stored_files

MB = 1024 * 1024


def first_part(token: str, boundary: str) -> bytes:
    return (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode()


async def test_oversize_upload_gets_the_413_page(client, upload_route, settings):
    await client.login((await make_user(Role.BIDDER)).email)
    token = await client.csrf()
    body = first_part(token, "b") + b"\0" * (settings.max_upload_bytes + 2 * MB) + b"\r\n--b--\r\n"
    response = await client.post(upload_route, content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413
    assert "<h1>文件过大</h1>" in response.text and "单个文件不能超过 5 MB" in response.text
    assert stored_files(settings.upload_dir) == []


async def test_a_client_leaving_mid_upload_is_not_a_server_error(app, client, upload_route, settings, caplog):
    await client.login((await make_user(Role.BIDDER)).email)
    token = await client.csrf()
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    messages = [
        {"type": "http.request", "body": first_part(token, "b"), "more_body": True},
        {"type": "http.request", "body": b"\0" * (2 * MB), "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": upload_route, "raw_path": upload_route.encode(),
             "query_string": b"", "http_version": "1.1", "scheme": "http", "server": ("testserver", 80),
             "client": ("127.0.0.1", 5000), "root_path": "",
             "headers": [(b"content-type", b"multipart/form-data; boundary=b"), (b"cookie", cookie.encode()),
                         (b"host", b"testserver")]}
    with caplog.at_level(logging.ERROR):
        await app(scope, receive, send)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert sent and sent[0]["status"] != 500
    assert stored_files(settings.upload_dir) == []
    assert await Blob.all().count() == 0
