"""The results pages over HTTP: the organiser's decision and notice, objections, the announcement,
and who may see what."""

import asyncio
import re
from datetime import timedelta

import feedparser

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.bids.models import Bid, BidStatus
from challenge.files.models import Attachment
from challenge.results import objections, services, workdays
from challenge.results.models import Decision, Notice, NoticeStatus, Objection, ObjectionStatus
from challenge.web.limits import DEFAULT_BODY_LIMIT
from challenge.web.timefmt import now_utc, to_beijing
from factories import make_user
from factories.results import concluded_review, open_notice
from factories.reviews import make_expert
from querylog import count_queries

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
from factories.uploads import PDF  # a real PDF: every upload is parsed


async def test_organiser_decides_and_publishes_the_notice(client):
    review = await concluded_review(scores=[90, 80, 70], recommended=[0])
    first, second, third = review.bids
    await client.login(review.organiser.email)
    ranking = await client.get(f"/review/manage/panels/{review.panel.id}/ranking")
    assert f'href="/results/manage/panels/{review.panel.id}/decision"' in ranking.text
    url = f"/results/manage/panels/{review.panel.id}/decision"
    page = await client.get(url)
    assert page.status_code == 200 and "拟揭榜" in page.text and "榜单设定的揭榜成功团队数为 1" in page.text
    assert re.search(rf'name="outcome-{first.id}" value="1" checked', page.text)
    assert re.search(rf'name="outcome-{second.id}" value="0" checked', page.text)
    # Choosing the second without reasons: refused, the choice kept on the page, nothing saved.
    choice = [(f"outcome-{first.id}", "0"), (f"outcome-{second.id}", "1"), (f"outcome-{third.id}", "0")]
    response = await client.submit(url, choice + [(f"reason-{second.id}", "中试数据更可靠")])
    assert response.status_code == 400 and "第 1 名与排名或专家组推荐不一致" in response.text
    assert re.search(rf'name="outcome-{second.id}" value="1" checked', response.text)
    assert "中试数据更可靠" in response.text and not await Decision.exists()
    response = await client.submit(url, choice + [(f"reason-{second.id}", "中试数据更可靠"),
                                                  (f"reason-{first.id}", "第一名存在同类在研项目")])
    assert response.status_code == 303 and response.headers["location"].endswith("#publish")
    page = await client.get(url)
    assert "发布公示" in page.text and 'value="5"' in page.text
    decision = await Decision.get()
    publish = f"/results/manage/decisions/{decision.id}/publish"
    response = await client.submit(publish, {"working_days": "0", "starts_on": ""})
    assert response.status_code == 400 and "不能小于 1" in response.text and "此项为必填项" in response.text
    response = await client.submit(publish, {"working_days": "5", "starts_on": "2000-01-01"})
    assert response.status_code == 400 and "公示开始日期不能早于今天" in response.text and not await Notice.exists()
    start = services.default_start(now_utc())
    response = await client.submit(publish, {"working_days": "5", "starts_on": start.isoformat()})
    assert response.status_code == 303
    notice = await Notice.get()
    assert response.headers["location"] == f"/results/notices/{notice.id}"
    assert notice.ends_on == workdays.notice_period(start, 5).last_day
    public = await client.get(f"/results/notices/{notice.id}")
    proposed = public.text.split('id="h-proposed"')[1].split("</section>")[0]
    assert (await second.lead_org).name in proposed and "中试数据更可靠" in proposed
    assert (await first.lead_org).name not in proposed and "第一名存在同类在研项目" in proposed
    local = to_beijing(notice.ends_at)
    assert f"{local.year}年{local.month}月{local.day}日 17:00 北京时间" in public.text
    assert decision.scores_sha256 in public.text
    # Published: the decision page no longer offers the form.
    page = await client.get(url)
    assert "保存评审结果" not in page.text and "不能再修改" in page.text


async def test_results_pages_are_for_organisers_only(client, make_client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    url = f"/results/manage/panels/{review.panel.id}/decision"
    response = await client.get("/results/manage")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for person in (review.bidders[0], review.chair, await make_user(Role.SUBMITTER)):
        http = make_client()
        await http.login(person.email)
        assert (await http.get("/results/manage")).status_code == 403
        assert (await http.get(url)).status_code == 403
        response = await http.submit(url, {f"outcome-{review.bids[0].id}": "1", f"outcome-{review.bids[1].id}": "0"})
        assert response.status_code == 403
    assert not await Decision.exists()
    await client.login(review.organiser.email)
    assert (await client.get("/results/manage/panels/999999/decision")).status_code == 404
    assert (await client.get("/results/manage/notices/999999")).status_code == 404
    index = await client.get("/results/manage")
    assert f'href="/results/manage/panels/{review.panel.id}/decision"' in index.text
    admin = await client.get("/admin/")
    assert 'href="/results/manage"' in admin.text


async def test_an_objection_with_evidence_is_confidential(client, make_client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await open_notice(review)
    objector = review.bidders[1]
    http = make_client()
    await http.login(objector.email)
    page = await http.get(f"/results/notices/{notice.id}")
    own = page.text.split('id="h-own"')[1].split("</section>")[0]
    assert "排名第 2" in own and "未入选" in own
    assert f'href="/results/notices/{notice.id}/object"' in page.text
    form = await http.get(f"/results/notices/{notice.id}/object")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    url = f"/results/notices/{notice.id}/object"
    response = await http.submit(url, {"real_name": "", "contact": "", "reasons": "短"},
                                 files={"file": ("证明.pdf", PDF, "application/pdf")})
    assert response.status_code == 400 and "此项为必填项" in response.text and not await Objection.exists()
    reasons = "第一名的中试装置实际规模与申报书不符，附现场照片说明。"
    response = await http.submit(url, {"real_name": "周研究员", "contact": "13800000000", "reasons": reasons},
                                 files={"file": ("现场核查说明.pdf", PDF, "application/pdf")})
    assert response.status_code == 303, response.text[:1000]
    objection = await Objection.get()
    assert response.headers["location"] == f"/results/objections/{objection.id}"
    attachment = await Attachment.get(owner_type="objection", owner_id=objection.id)
    mine = await http.get(f"/results/objections/{objection.id}")
    assert reasons in mine.text and "现场核查说明.pdf" in mine.text and "正在核实处理" in mine.text
    file_url = f"/results/objections/{objection.id}/files/{attachment.id}"
    download = await http.get(file_url)
    assert download.status_code == 200 and download.content == PDF
    # Nobody else sees it: another bidder, an expert, the public.
    other = make_client()
    await other.login(review.bidders[0].email)
    assert (await other.get(f"/results/objections/{objection.id}")).status_code == 404
    assert (await other.get(file_url)).status_code == 404
    expert = make_client()
    await expert.login((await make_expert()).email)
    assert (await expert.get(file_url)).status_code == 404
    assert (await client.get(file_url)).status_code == 303  # to the sign-in page
    public = await client.get(f"/results/notices/{notice.id}")
    assert "已收到异议 1 件：待处理 1 件" in public.text
    assert reasons not in public.text and "周研究员" not in public.text
    await client.login(review.organiser.email)
    assert (await client.get(file_url)).status_code == 200
    manage = await client.get(f"/results/manage/notices/{notice.id}")
    assert "周研究员" in manage.text and "还有 1 件异议尚未处理" not in manage.text  # the period runs first
    assert "期满后方可发布结果公告" in manage.text


async def test_objections_after_the_period_are_refused(client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await open_notice(review)
    await Notice.filter(id=notice.id).update(ends_at=now_utc() - timedelta(minutes=1))
    await client.login(review.bidders[1].email)
    url = f"/results/notices/{notice.id}/object"
    page = await client.get(url)
    assert "结束，不再受理异议" in page.text and 'name="reasons"' not in page.text
    response = await client.submit(url, {"real_name": "周研究员", "contact": "13800000000",
                                         "reasons": "公示期结束之后提出的异议内容"},
                                   files={"file": ("说明.pdf", PDF, "application/pdf")})
    assert response.status_code == 400 and "结束，不再受理异议" in response.text
    assert not await Objection.exists() and not await Attachment.filter(owner_type="objection").exists()


async def test_an_objection_posted_twice_or_replayed_is_filed_once(client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await open_notice(review)
    await client.login(review.bidders[1].email)
    url = f"/results/notices/{notice.id}/object"
    token = FORM_TOKEN.search((await client.get(url)).text).group(1)
    fields = {"real_name": "周研究员", "contact": "13800000000", "reasons": "第一名的中试装置实际规模与申报书不符。",
              "form_token": token}
    evidence = {"file": ("现场核查说明.pdf", PDF, "application/pdf")}
    # A double click (two posts at once), then Back and the same form sent again.
    posts = await asyncio.gather(client.submit(url, fields, files=evidence), client.submit(url, fields, files=evidence))
    replayed = await client.submit(url, fields, files=evidence)
    objection = await Objection.get()
    assert [r.status_code for r in (*posts, replayed)] == [303] * 3
    assert {r.headers["location"] for r in (*posts, replayed)} == {f"/results/objections/{objection.id}"}
    assert await Objection.filter(notice_id=notice.id).count() == 1
    assert await Attachment.filter(owner_type="objection").count() == 1
    assert await AuditEntry.filter(action="objection.file").count() == 1
    assert "该表单已提交过" in (await client.get(replayed.headers["location"])).text
    # The form shown again is a new one: a second objection is possible on purpose.
    assert FORM_TOKEN.search((await client.get(url)).text).group(1) != token


async def test_evidence_is_streamed_up_to_the_upload_limit(client, settings):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await open_notice(review)
    await client.login(review.bidders[1].email)
    url = f"/results/notices/{notice.id}/object"
    fields = {"real_name": "周研究员", "contact": "13800000000", "reasons": "现场照片和检测报告见附件。"}
    large = PDF + b"\0" * DEFAULT_BODY_LIMIT  # more than an ordinary form may carry
    response = await client.submit(url, fields, files={"file": ("检测报告.pdf", large, "application/pdf")})
    assert response.status_code == 303, response.text[:1000]
    attachment = await Attachment.get(owner_type="objection").select_related("blob")
    assert attachment.blob.size == len(large)
    too_large = PDF + b"\0" * settings.max_upload_bytes
    response = await client.submit(url, fields, files={"file": ("检测报告.pdf", too_large, "application/pdf")})
    assert response.status_code == 413 and f"{settings.max_upload_mb} MB" in response.text
    assert await Objection.all().count() == 1


async def test_answer_then_announce_and_the_winner_is_everywhere(client, make_client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await open_notice(review)
    bidder = make_client()
    await bidder.login(review.bidders[1].email)
    await bidder.submit(f"/results/notices/{notice.id}/object",
                        {"real_name": "周研究员", "contact": "13800000000", "reasons": "请核查第一名的资质证明材料。"},
                        files={"file": ("", b"", "application/octet-stream")})
    objection = await Objection.get()
    await client.login(review.organiser.email)
    url = f"/results/manage/objections/{objection.id}"
    response = await client.submit(url, {"outcome": "dismissed", "answer": ""})
    assert response.status_code == 400 and "此项为必填项" in response.text
    response = await client.submit(url, {"outcome": "upheld", "answer": "属实"})
    assert response.status_code == 400 and "异议成立时，请选择如何重新评审" in response.text
    assert (await Objection.get()).status == ObjectionStatus.OPEN
    response = await client.submit(url, {"outcome": "dismissed", "answer": "资质证明材料齐全有效。"})
    assert response.status_code == 303
    mine = await bidder.get(f"/results/objections/{objection.id}")
    assert "异议不成立" in mine.text and "资质证明材料齐全有效。" in mine.text
    announce = f"/results/manage/notices/{notice.id}/announce"
    response = await client.submit(announce, {"announcement": "请于一个月内签订任务书。"})
    assert response.status_code == 400 and "期满后方可发布结果公告" in response.text
    await Notice.filter(id=notice.id).update(ends_at=now_utc() - timedelta(minutes=1))
    response = await client.submit(announce, {"announcement": "请于一个月内签订任务书。"})
    assert response.status_code == 303
    assert (await Notice.get(id=notice.id)).status == NoticeStatus.ANNOUNCED
    assert (await Bid.get(id=review.bids[0].id)).status == BidStatus.WINNER
    winner = (await review.bids[0].lead_org).name
    await client.submit("/logout")
    results = await client.get("/results")
    announced = results.text.split('id="h-announced"')[1]
    assert winner in announced and review.challenge.title in announced
    challenge_page = await client.get(f"/challenges/{review.challenge.id}")
    section = challenge_page.text.split('id="h-results"')[1].split("</section>")[0]
    assert winner in section and "已公告" in section
    notice_page = await client.get(f"/results/notices/{notice.id}")
    assert "请于一个月内签订任务书。" in notice_page.text and "异议不成立 1 件" in notice_page.text
    feed = feedparser.parse((await client.get("/feed.atom")).content)
    titles = [entry.title for entry in feed.entries]
    announced = next(e for e in feed.entries if e.title == f"结果公告：{review.challenge.title}")
    assert f"揭榜单位：{winner}" in announced.summary and "请于一个月内签订任务书。" in announced.summary
    assert f"评审结果公示：{review.challenge.title}" in titles
    own = await client.get(f"/challenges/{review.challenge.id}/feed.atom")
    assert own.status_code == 200
    parsed = feedparser.parse(own.content)
    assert not parsed.bozo and parsed.feed.title.startswith(review.challenge.title)
    assert {e.title for e in parsed.entries} >= {f"结果公告：{review.challenge.title}",
                                                 f"评审结果公示：{review.challenge.title}"}
    assert (await client.get("/challenges/999999/feed.atom")).status_code == 404
    bid_page = await bidder.get(f"/bids/{review.bids[1].id}")
    assert f'href="/results/challenges/{review.challenge.id}"' in bid_page.text
    redirect = await client.get(f"/results/challenges/{review.challenge.id}")
    assert redirect.status_code == 303 and redirect.headers["location"] == f"/results/notices/{notice.id}"


async def test_results_and_notice_pages_take_constant_queries(client):
    reviews = [await concluded_review(scores=[90, 80, 70], recommended=[0, 1], winners_count=2)]
    notice = await open_notice(reviews[0])
    few, _page = await count_queries(client, "/results")
    few_notice, _page = await count_queries(client, f"/results/notices/{notice.id}")
    for _ in range(3):
        review = await concluded_review(scores=[90, 85, 80, 75, 70], recommended=[0, 1, 2], winners_count=3)
        await open_notice(review)
    many, page = await count_queries(client, "/results")
    assert many == few and page.count('class="challenge-card"') == 4
    notice = await Notice.filter().order_by("-id").first()
    many_notice, _page = await count_queries(client, f"/results/notices/{notice.id}")
    assert many_notice == few_notice


async def test_a_withdrawn_notice_stays_visible_and_points_to_its_revision(client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await open_notice(review)
    objection = await objections.file_objection(notice=notice, user=review.bidders[1], real_name="周研究员",
                                                contact="13800000000", reasons="第一名的资质证书已过有效期，请核查。")
    await client.login(review.organiser.email)
    response = await client.submit(f"/results/manage/objections/{objection.id}", {
        "outcome": "upheld", "remedy": "new_decision", "answer": "经核实，资质证书已过期，异议成立。"})
    assert response.status_code == 303
    withdrawn = await client.get(f"/results/notices/{notice.id}")
    assert "撤回" in withdrawn.text and "查看修订后的公示" not in withdrawn.text
    assert "异议成立 1 件" in withdrawn.text and 'href="/results/notices/' + str(notice.id) + '/object"' not in withdrawn.text
    index = await client.get("/results/manage")
    assert f'href="/results/manage/panels/{review.panel.id}/decision"' in index.text
    page = await client.get(f"/results/manage/panels/{review.panel.id}/decision")
    assert "上一次公示因异议成立已撤回" in page.text and "保存评审结果" in page.text
    first, second = review.bids
    response = await client.submit(f"/results/manage/panels/{review.panel.id}/decision", [
        (f"outcome-{first.id}", "0"), (f"reason-{first.id}", "资质证书已过期"),
        (f"outcome-{second.id}", "1"), (f"reason-{second.id}", "依次递补")])
    assert response.status_code == 303
    decision = await Decision.filter(revision=2).get()
    response = await client.submit(f"/results/manage/decisions/{decision.id}/publish", {
        "working_days": "3", "starts_on": services.default_start(now_utc()).isoformat()})
    assert response.status_code == 303
    revised = await Notice.get(revision=2)
    withdrawn = await client.get(f"/results/notices/{notice.id}")
    assert f'href="/results/notices/{revised.id}"' in withdrawn.text
    page = await client.get(f"/results/notices/{revised.id}")
    assert "修订公示（第 2 次公示）" in page.text and "依次递补" in page.text
