"""CSRF: every state-changing route of the whole app refuses a request without a valid token.

The routes are enumerated from the app itself (mounts included), so a route an area adds
later is covered without touching this file. Path parameters are all 1, and the database holds
an object with id 1 of each kind, so a route that forgot the check would find something to change.
"""

import hashlib

import httpx
import pytest

from challenge.accounts.models import Membership, Role, User
from challenge.follow.routes import CSRF_EXEMPT
from factories import make_bid, make_challenge, make_need, make_org, make_user
from factories.web import changed_tables, post_paths, snapshot
from factories.uploads import PDF

FORM = {"email": "x@example.cn", "password": "correct-horse-42", "name": "篡改", "title": "篡改",
        "status": "published", "locale": "en", "note": "篡改", "approve": "1", "roles": "organiser"}


@pytest.fixture
async def world():
    organiser = await make_user(Role.ORGANISER, email="organiser@example.cn")
    submitter = await make_user(Role.SUBMITTER, Role.BIDDER, email="submitter@example.cn")
    await make_need(organisation=submitter.organisation)
    challenge = await make_challenge()
    await make_bid(challenge=challenge, lead_org=submitter.organisation)
    await make_org(name="待审核单位")
    manager = await make_user(Role.BIDDER, organisation=submitter.organisation, is_org_manager=True)
    pending = await make_user(Role.BIDDER)
    await User.filter(id=pending.id).update(organisation_id=None)
    await Membership.create(user=pending, organisation=submitter.organisation)
    return {"organiser": organiser, "submitter": submitter, "manager": manager, "pending": pending}


def test_the_app_has_post_routes_to_check(app):
    paths = post_paths(app)
    assert {"/login", "/logout", "/register", "/account/password", "/locale"} <= set(paths)


@pytest.mark.parametrize("who", ["anonymous", "pending", "submitter", "manager", "organiser"])
async def test_every_post_route_refuses_a_missing_or_wrong_token(app, client, world, who):
    if who != "anonymous":
        await client.login(world[who].email)
    token = await client.csrf()
    before = await snapshot()
    attempts = {
        "no token": {"data": FORM},
        "wrong token": {"data": {"csrf_token": token[:-2] + "xx", **FORM}},
        "wrong header": {"data": FORM, "headers": {"X-CSRF-Token": "not-" + token}},
        "empty token": {"data": {"csrf_token": "", **FORM}},
        "multipart, no token": {"data": FORM, "files": {"file": ("a.pdf", b"%PDF-1.4", "application/pdf")}},
        "json body": {"json": {"csrf_token": token, **FORM}},
    }
    failures = []
    for path in post_paths(app):
        if path.startswith(CSRF_EXEMPT):
            # RFC 8058 one-click unsubscribe: the signed token in the path authenticates the POST; a
            # forged one ("1" here) changes nothing (the snapshot below), whatever the CSRF token.
            assert (await client.post(path, data=FORM)).status_code == 200
            continue
        for label, kwargs in attempts.items():
            response = await client.post(path, **kwargs)
            if response.status_code != 403 or "页面已过期或来源无法验证" not in response.text:
                failures.append(f"{path} ({label}): {response.status_code}")
    assert failures == []
    assert changed_tables(before, await snapshot()) == []
    # The session survives a refused request: a real form still works afterwards.
    if who != "anonymous":
        assert (await client.get("/account")).status_code == 200


async def test_token_from_another_session_is_refused(make_client, world):
    attacker, victim = make_client(), make_client()
    await victim.login(world["organiser"].email)
    attacker_token = await attacker.csrf()
    before = await snapshot()
    response = await victim.post("/locale", data={"csrf_token": attacker_token, "locale": "en"})
    assert response.status_code == 403
    assert changed_tables(before, await snapshot()) == []


async def test_the_right_token_is_accepted(client, world):
    await client.login(world["organiser"].email)
    response = await client.submit("/locale", {"locale": "en"})
    assert response.status_code == 303
    await world["organiser"].refresh_from_db()
    assert world["organiser"].locale == "en"


async def test_the_token_in_a_header_is_accepted(client, world):
    await client.login(world["organiser"].email)
    token = await client.csrf()
    response = await client.post("/locale", data={"locale": "en"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 303


def multipart(parts: list[tuple[str, str | tuple[str, bytes]]]) -> tuple[bytes, str]:
    boundary = "csrf-test-boundary-93f2"
    chunks = []
    for name, value in parts:
        if isinstance(value, tuple):
            filename, content = value
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                          f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
        else:
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


async def test_multipart_token_as_the_first_part_works(client, world, upload_route):
    await client.login(world["organiser"].email)
    token = await client.csrf()
    content = PDF + bytes(range(256)) * 4000  # about 1 MB after the token part (a real PDF: uploads are parsed)
    body, content_type = multipart([("csrf_token", token), ("title", "方案"), ("file", ("a.pdf", content))])
    response = await client.post(upload_route, content=body, headers={"content-type": content_type})
    assert response.status_code == 200, response.text[:300]
    # The bytes the middleware read to find the token were replayed to the handler intact.
    assert response.json() == {"form": {"csrf_token": token, "title": "方案"},
                               "sha256": [hashlib.sha256(content).hexdigest()]}


async def test_multipart_token_first_on_an_ordinary_form_route(client, world):
    await client.login(world["organiser"].email)
    token = await client.csrf()
    body, content_type = multipart([("csrf_token", token), ("locale", "en")])
    response = await client.post("/locale", content=body, headers={"content-type": content_type})
    assert response.status_code == 303
    await world["organiser"].refresh_from_db()
    assert world["organiser"].locale == "en"


async def test_multipart_token_as_a_later_part_is_refused(client, world, upload_route):
    await client.login(world["organiser"].email)
    token = await client.csrf()
    before = await snapshot()
    for path, parts in (("/locale", [("locale", "en"), ("csrf_token", token)]),
                        (upload_route, [("file", ("a.pdf", b"%PDF-1.4" + b"\0" * 100_000)), ("csrf_token", token)])):
        body, content_type = multipart(parts)
        response = await client.post(path, content=body, headers={"content-type": content_type})
        assert response.status_code == 403, path
    assert changed_tables(before, await snapshot()) == []


async def test_multipart_with_a_huge_first_part_is_refused_without_reading_it_all(client, world, upload_route):
    await client.login(world["organiser"].email)
    sent = 0

    async def body():
        nonlocal sent
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
        sent += len(head)
        yield head
        for _ in range(64):  # 64 MiB that never reach a csrf_token part
            sent += 1024 * 1024
            yield b"\0" * (1024 * 1024)

    response = await client.post(upload_route, content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 403
    assert sent < 2 * 1024 * 1024


async def test_state_changing_methods_other_than_post_are_refused(client, world):
    """No route takes PUT, PATCH or DELETE: 405 (with Allow), and nothing changes."""
    await client.login(world["organiser"].email)
    token = await client.csrf()
    for method in ("PUT", "PATCH", "DELETE"):
        for headers in ({}, {"X-CSRF-Token": token}):
            response = await client.request(method, "/locale", data={"locale": "en"}, headers=headers)
            assert response.status_code == 405, method
    await world["organiser"].refresh_from_db()
    assert world["organiser"].locale != "en"
    assert (await client.request("HEAD", "/login")).status_code == 200


async def test_cross_site_form_without_session_cookie_is_refused(app, world):
    """A form on another site posting here: the browser sends no token (and, SameSite=Lax, no cookie)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        response = await other.post("/login", data={"email": world["organiser"].email, "password": "correct-horse-42"},
                                    headers={"origin": "https://evil.example", "referer": "https://evil.example/"})
        assert response.status_code == 403
        assert (await other.get("/account")).status_code == 303  # not signed in
