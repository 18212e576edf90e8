"""Request bodies are bounded on every route (issue #8, defect 5), with the refusal in Chinese."""

import httpx
import pytest

from challenge.accounts.models import Role
from challenge.web.limits import DEFAULT_BODY_LIMIT, SMALL_FORM
from factories import make_user
from factories.web import post_paths


def multipart_file(size: int, token: str = "", field: str = "locale") -> tuple[bytes, str]:
    boundary = "limit-test-boundary"
    head = ""
    if token:
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="big.bin"\r\n\r\n'
    body = head.encode() + b"\0" * size + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def test_a_large_file_part_on_a_small_form_is_refused_before_it_is_read(client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    token = await client.csrf()
    body, content_type = multipart_file(8 * 1024 * 1024, token)
    response = await client.post("/locale", content=body, headers={"content-type": content_type})
    assert response.status_code == 413
    assert "提交的内容过大" in response.text and "64 KB" in response.text and "</html>" in response.text


async def test_a_chunked_body_is_cut_off_at_the_limit(client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    token = await client.csrf()
    sent = 0

    async def body():
        nonlocal sent
        head = f"csrf_token={token}&locale=".encode()
        sent += len(head)
        yield head
        for _ in range(256):  # 64 MiB if it were all read
            sent += 256 * 1024
            yield b"x" * (256 * 1024)

    response = await client.post("/locale", content=body(),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413 and "提交的内容过大" in response.text
    assert sent < 1024 * 1024


async def test_a_small_file_part_where_no_file_is_expected_is_a_chinese_400(client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    body, content_type = multipart_file(1000, await client.csrf())
    response = await client.post("/locale", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert "未保存任何内容" in response.text and "Too many" not in response.text


async def test_too_many_fields_is_a_chinese_400(client):
    user = await make_user(Role.ORGANISER)
    await client.login(user.email)
    response = await client.submit("/admin/domains", [("name", "x")] * 1500)
    assert response.status_code == 400
    assert "过多" in response.text and "Too many" not in response.text


async def test_every_post_route_has_a_limit(app, client):
    """No route takes an unbounded body: at most the upload size, most far less."""
    user = await make_user(Role.ORGANISER)
    await client.login(user.email)
    token = await client.csrf()
    too_big = app.state.settings.max_upload_bytes + 2 * 1024 * 1024
    failures = []
    for path in post_paths(app):
        response = await client.post(path, content=b"x", headers={
            "content-type": "application/x-www-form-urlencoded", "content-length": str(too_big),
            "x-csrf-token": token})
        if response.status_code != 413:
            failures.append(f"{path}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("path, limit", [("/login", SMALL_FORM), ("/admin/domains", DEFAULT_BODY_LIMIT)])
async def test_limits_per_route(client, path, limit):
    user = await make_user(Role.ORGANISER)
    await client.login(user.email)
    token = await client.csrf()
    just_over = httpx.QueryParams({"csrf_token": token, "name": "x" * limit}).__str__().encode()
    response = await client.post(path, content=just_over, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_no_handler_reads_a_form_without_its_limits():
    """Forms are read through web.forms.read_form (limits, no file parts), never request.form()."""
    from pathlib import Path

    import challenge

    root = Path(challenge.__file__).parent
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "request.form(" in path.read_text() and path.name != "forms.py" and path.name != "uploads.py"]
    assert offenders == []
