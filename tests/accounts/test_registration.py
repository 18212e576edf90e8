"""Registration reveals nothing about existing accounts (issue #8, defect 4) and confirms the e-mail."""

import time

from challenge.accounts.models import Membership, MembershipStatus, Role, User
from challenge.mail.models import OutboxMessage
from factories import make_org, make_user


def registration(email: str, org_id: int, **extra) -> dict:
    return {"role": "bidder", "name": "王五", "email": email, "password": "a-good-passw0rd",
            "password_confirm": "a-good-passw0rd", "org_mode": "existing", "organisation_id": str(org_id),
            "agree": "1", **extra}


def link_in(body: str, path: str) -> str:
    return next(word for word in body.split() if path in word).replace("http://testserver", "")


def page_text(html: str) -> str:
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return main


async def test_register_gives_the_same_page_for_a_known_and_an_unknown_address(client, make_client):
    org = await make_org()
    owner = await make_user(Role.SUBMITTER, email="owner@example.cn")
    known = await client.submit("/register", registration("owner@example.cn", org.id))
    other = make_client()
    unknown = await other.submit("/register", registration("fresh@example.cn", org.id))
    assert known.status_code == unknown.status_code == 200
    assert page_text(known.text).replace("owner@example.cn", "@") == page_text(unknown.text).replace(
        "fresh@example.cn", "@")
    assert "该邮箱已注册" not in known.text
    # The owner is told by mail; no account, request or session was made for the intruder.
    mail = await OutboxMessage.get(to_address=owner.email)
    assert "有人使用您的邮箱注册账户" in mail.subject and "/password/forgot" in mail.body
    assert await User.filter(email="owner@example.cn").count() == 1
    assert not await Membership.filter(user_id=owner.id).exists()
    assert (await client.get("/account")).status_code == 303


async def test_register_takes_about_as_long_for_a_known_address(client, make_client):
    org = await make_org()
    await make_user(Role.SUBMITTER, email="owner@example.cn")
    timings = {"known": [], "unknown": []}
    for n in range(4):
        for kind, email in (("known", "owner@example.cn"), ("unknown", f"fresh{n}@example.cn")):
            browser = make_client()
            started = time.perf_counter()
            await browser.submit("/register", registration(email, org.id))
            timings[kind].append(time.perf_counter() - started)
    known, unknown = sorted(timings["known"])[1], sorted(timings["unknown"])[1]
    assert known > unknown * 0.5, timings  # the known path hashes the password too


async def test_confirmation_link_signs_in_and_a_request_waits_for_a_manager(client):
    org = await make_org(name="清华大学")
    manager = await make_user(Role.BIDDER, organisation=org, is_org_manager=True)
    response = await client.submit("/register", registration("newbie@example.cn", org.id))
    assert response.status_code == 200
    user = await User.get(email="newbie@example.cn")
    assert user.organisation_id is None and not user.email_confirmed
    # Not signed in before the address is confirmed, even with the right password.
    refused = await client.submit("/login", {"email": "newbie@example.cn", "password": "a-good-passw0rd"})
    assert refused.status_code == 400 and "确认邮件" in refused.text
    mail = await OutboxMessage.get(to_address="newbie@example.cn")
    path = link_in(mail.body, "/register/confirm/")
    page = await client.get(path)
    assert page.status_code == 200 and "确认邮箱并登录" in page.text
    assert not (await User.get(id=user.id)).email_confirmed  # opening the link changes nothing
    response = await client.submit(path)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    account = await client.get("/account")
    assert "正在等待该单位管理人审核" in account.text
    assert (await client.get(path)).status_code == 404  # single use
    request = await Membership.get(user_id=user.id)
    assert request.status == MembershipStatus.PENDING and request.organisation_id == org.id
    assert await OutboxMessage.filter(to_address=manager.email, subject__contains="申请加入").exists()


async def test_an_unconfirmed_address_registered_again_gets_a_new_link(client, make_client):
    org = await make_org()
    await client.submit("/register", registration("twice@example.cn", org.id))
    await make_client().submit("/register", registration("twice@example.cn", org.id))
    assert await OutboxMessage.filter(to_address="twice@example.cn", subject="请确认您的邮箱").count() == 2
    assert await User.filter(email="twice@example.cn").count() == 1
