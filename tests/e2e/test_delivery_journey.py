"""Browser journeys of delivery, on the demo data.

1. A 赛马 track (the demo's open blind track, 钢铁行业氢冶金关键技术, two stages): its window
   closes, the organiser passes the bids' formal check, both teams hand in their stage 1
   deliverables, a stage panel scores them and the gate lets both go on; they hand in stage 2,
   whose gate names the final winner, whose project starts.
2. A 揭榜挂帅 winner (the demo's project of 清华大学, part-way with an overdue milestone) files
   its progress report, the organiser accepts it; the team files its acceptance report, an
   acceptance panel judges and scores it, and the result appears on the public challenge page.

Stage deadlines, the bid window and a notice's working days cannot pass in a test: they are
moved into the past in the server's database, as the calendar would have done (each time said
so below). Everything else is done in the browser.
"""

import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from e2e.conftest import sign_in
from factories.uploads import PDF  # a real PDF: every upload is parsed

pytestmark = pytest.mark.e2e

TRACK = "钢铁行业氢冶金关键技术"
PROJECT_CHALLENGE = "荒漠草原生态系统固碳增汇与碳汇监测技术"
EXPERTS = [("expert1@demo.cn", "赵院士"), ("expert2@demo.cn", "钱教授"), ("expert4@demo.cn", "吴总工")]
TEAMS = [("bidder2@demo.cn", "方案甲"), ("enterprise@demo.cn", "方案乙")]


async def _as(page, base, email):
    await page.context.clear_cookies()
    await sign_in(page, base, email)


def _past(tmp_path, sql: str, *args) -> None:
    """Move a date into the past in the server's database (a minute ago)."""
    ago = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(sep=" ")
    with sqlite3.connect(tmp_path / "data" / "challenge.sqlite3") as database:
        database.execute(sql, (ago, *args))


def _one(tmp_path, sql: str, *args):
    with sqlite3.connect(tmp_path / "data" / "challenge.sqlite3") as database:
        return database.execute(sql, args).fetchone()[0]


async def _hand_in(page, base, tmp_path, email, marker, stage):
    await _as(page, base, email)
    await page.goto(f"{base}/delivery/")
    card = page.locator("article", has_text=TRACK)
    await card.locator("tr", has_text=stage).get_by_role("link", name="提交交付物").click()
    await page.fill("#field-report", f"{marker}：{stage}完成，关键参数与物料平衡见附件。")
    report = tmp_path / f"{marker}.pdf"
    report.write_bytes(PDF)
    await page.set_input_files("#field-files", str(report))
    await page.get_by_role("button", name="提交阶段交付物").click()
    await page.wait_for_selector("text=阶段交付物已提交")
    assert "已核验" in await page.locator("main").inner_text()


async def _stage_panel(page, base, tmp_path, challenge_id, stage):
    """The organiser forms the stage's panel from the desk, and confirms the proposed assignments."""
    await _as(page, base, "admin@demo.cn")
    await page.goto(f"{base}/delivery/manage")
    card = page.locator("article", has_text=TRACK)
    await card.locator("tr", has_text=stage).get_by_role("link", name="组建阶段评审专家组").click()
    await page.select_option("#field-stage", label=stage)
    await page.fill("#field-name", f"{stage}评审专家组")
    for _email, name in EXPERTS:
        await page.get_by_label(name, exact=True).check()
    await page.get_by_label("赵院士 任组长").check()
    await page.get_by_role("button", name="组建专家组").click()
    await page.wait_for_selector("text=评审专家组已组建")
    panel_id = re.search(r"/review/manage/panels/(\d+)", page.url).group(1)
    await page.get_by_role("button", name="生成分配建议").click()
    await page.get_by_role("button", name=re.compile("确认分配并通知专家")).click()
    await page.wait_for_selector("text=并通知了专家")
    return panel_id


async def _score_all(page, base, heading, scores, judge=False):
    """Each expert scores each of his tasks: `scores(text)` gives the score from what he reads."""
    for email, _name in EXPERTS:
        await _as(page, base, email)
        while True:
            await page.goto(f"{base}/review/")
            links = page.locator("section", has_text=heading).get_by_role("link", name="查看并评分")
            if not await links.count():
                break
            await links.first.click()
            value = scores(await page.locator("main").inner_text())
            inputs = page.locator("input[name^=score_]")
            for index in range(await inputs.count()):
                await inputs.nth(index).fill(str(value))
            if judge:
                met = page.locator("input[name^=judge_][value=met]")
                for index in range(await met.count()):
                    await met.nth(index).check()
            await page.fill("#field-opinion", "按阶段要求完成，数据翔实。")
            await page.get_by_role("button", name="提交评分").click()
            await page.wait_for_selector("text=评分已提交并锁定")


async def _opinion(page, base, panel_id, text, recommend: int):
    await _as(page, base, "expert1@demo.cn")
    await page.goto(f"{base}/review/panels/{panel_id}")
    await page.fill("#field-text", text)
    boxes = page.locator("input[name=recommended]")
    for index in range(recommend):
        await boxes.nth(index).check()
    await page.get_by_role("button", name="记录专家组意见").click()
    await page.wait_for_selector("text=专家组意见已记录")


async def _gate(page, base, tmp_path, panel_id):
    """The organiser decides as the panel recommended, publishes the notice, and announces it once
    its period is over."""
    await _as(page, base, "admin@demo.cn")
    await page.goto(f"{base}/review/manage/panels/{panel_id}/ranking")
    await page.get_by_role("link", name="作出评审结果").click()
    await page.get_by_role("button", name="保存评审结果").click()
    await page.wait_for_selector("text=评审结果已保存")
    await page.get_by_role("button", name="发布公示").click()
    await page.wait_for_selector("text=公示已发布")
    notice_id = int(page.url.rsplit("/", 1)[1])
    # Five working days pass: the notice's end is moved into the past.
    _past(tmp_path, "UPDATE result_notice SET ends_at = ? WHERE id = ?", notice_id)
    await page.goto(f"{base}/results/manage/notices/{notice_id}")
    await page.get_by_role("button", name="发布结果公告").click()
    await page.wait_for_selector("text=结果已公告")


async def test_a_track_goes_stage_by_stage_to_its_winner(live_server, page, tmp_path):
    base = live_server
    page.on("dialog", lambda dialog: dialog.accept())
    challenge_id = _one(tmp_path, "SELECT id FROM challenge WHERE title = ?", TRACK)
    # The bid window closes (moved into the past), and the organiser passes the formal check.
    _past(tmp_path, "UPDATE challenge SET closes_at = ? WHERE id = ?", challenge_id)
    await sign_in(page, base, "admin@demo.cn")
    await page.goto(f"{base}/bids/manage?challenge_id={challenge_id}&status=submitted")
    for link in [await a.get_attribute("href") for a in await page.locator("main table a[href^='/bids/']").all()]:
        await page.goto(f"{base}{link}")
        await page.get_by_role("button", name="形式审查通过").click()
        await page.wait_for_selector("text=形式审查结果已记录")

    # Stage 1: both teams hand in; the panel opens after the deadline (moved into the past).
    for email, marker in TEAMS:
        await _hand_in(page, base, tmp_path, email, marker, "小试验证")
    _past(tmp_path, "UPDATE stage SET due_at = ? WHERE challenge_id = ? AND position = 0", challenge_id)
    panel_id = await _stage_panel(page, base, tmp_path, challenge_id, "小试验证")
    await _score_all(page, base, f"{TRACK} · 小试验证", lambda text: 85 if "方案甲" in text else 80)
    await _opinion(page, base, panel_id, "两支团队均完成小试目标，建议均晋级工程示范。", recommend=2)
    await _gate(page, base, tmp_path, panel_id)
    await page.goto(f"{base}/challenges/{challenge_id}")
    track = await page.locator("section", has=page.locator("#h-stages")).inner_text()
    assert "中国科学院过程工程研究所" in track and "宝武低碳冶金科技有限公司" in track and "晋级" in track

    # Stage 2, the last: its gate names the winner.
    for email, marker in TEAMS:
        await _hand_in(page, base, tmp_path, email, marker, "工程示范")
    _past(tmp_path, "UPDATE stage SET due_at = ? WHERE challenge_id = ? AND position = 1", challenge_id)
    panel_id = await _stage_panel(page, base, tmp_path, challenge_id, "工程示范")
    await _score_all(page, base, f"{TRACK} · 工程示范", lambda text: 92 if "方案甲" in text else 70)
    await _opinion(page, base, panel_id, "方案甲示范工程指标全面达到要求，推荐胜出。", recommend=1)
    await _gate(page, base, tmp_path, panel_id)

    await page.context.clear_cookies()
    await page.goto(f"{base}/challenges/{challenge_id}")
    track = await page.locator("section", has=page.locator("#h-stages")).inner_text()
    assert "最终胜出" in track and "第 2 阶段评审结果" in track
    racing = track.split("仍在赛程中的团队")[1]
    assert "中国科学院过程工程研究所" in racing and "宝武低碳冶金科技有限公司" not in racing
    projects = await page.locator("#delivery").inner_text()
    assert "中国科学院过程工程研究所" in projects and "实施中" in projects


async def test_a_winner_reports_progress_and_passes_acceptance(live_server, page, tmp_path):
    base = live_server
    page.on("dialog", lambda dialog: dialog.accept())
    evidence = tmp_path / "检测报告.pdf"
    evidence.write_bytes(PDF)

    # The team sees its overdue milestone and files the report asked for.
    await sign_in(page, base, "bidder@demo.cn")
    await page.goto(f"{base}/delivery/")
    assert "逾期 1 个" in await page.locator("main").inner_text()
    await page.get_by_role("link", name=re.compile(PROJECT_CHALLENGE)).first.click()
    project_url = page.url
    assert "有 1 个攻关节点已逾期" in await page.locator("main").inner_text()
    await page.get_by_role("link", name="修改报告").click()
    await page.fill("#field-text", "已补充示范区土壤有机碳第三方采样检测报告和监测方法学比对数据。")
    await page.set_input_files("#field-files", str(evidence))
    await page.get_by_role("button", name="提交进展报告").click()
    await page.wait_for_selector("text=进展报告已提交")

    # The organiser accepts it: the milestone is done, nothing is overdue.
    await _as(page, base, "admin@demo.cn")
    await page.goto(project_url)
    await page.get_by_role("link", name="审核报告").click()
    await page.get_by_label("通过", exact=True).check()
    await page.get_by_role("button", name="记录审核结果").click()
    await page.wait_for_selector("text=审核结果已记录")
    assert "已逾期" not in await page.locator("main").inner_text()

    # The team files its acceptance report, with evidence for the first target.
    await _as(page, base, "bidder@demo.cn")
    await page.goto(project_url)
    await page.get_by_role("link", name="填报第 1 轮验收报告").click()
    await page.fill("#field-summary", "三年攻关任务全部完成，示范区固碳增汇效果经第三方核查。")
    values = page.locator("input[name$='-value']")
    for index in range(await values.count()):
        await values.nth(index).fill(["18", "0.35", "92"][index % 3])
    await page.set_input_files("input[name^='file-target-'] >> nth=0", str(evidence))
    await page.get_by_role("button", name="提交验收报告").click()
    await page.wait_for_selector("text=验收报告已提交")

    # The organiser forms the acceptance panel; its experts judge every target and score.
    await _as(page, base, "admin@demo.cn")
    await page.goto(project_url)
    await page.get_by_role("link", name="组建验收专家组").click()
    for _email, name in EXPERTS:
        await page.get_by_label(name, exact=True).check()
    await page.get_by_label("赵院士 任组长").check()
    await page.get_by_role("button", name="组建专家组").click()
    await page.wait_for_selector("text=专家组已组建")
    panel_id = re.search(r"/review/manage/panels/(\d+)", page.url).group(1)
    await page.get_by_role("button", name="生成分配建议").click()
    await page.get_by_role("button", name=re.compile("确认分配并通知专家")).click()
    await page.wait_for_selector("text=并通知了专家")
    await _score_all(page, base, PROJECT_CHALLENGE, lambda text: 88, judge=True)
    await _opinion(page, base, panel_id, "各项考核指标均达到榜单要求，同意通过验收。", recommend=0)

    # The organiser records the result; it is published on the challenge's page.
    await _as(page, base, "admin@demo.cn")
    await page.goto(f"{base}/delivery/manage")
    await page.locator("#h-waiting + ul").get_by_role("link").first.click()
    assert "3 / 3 达到" in await page.locator("main").inner_text()
    await page.get_by_label("予以通过").check()
    await page.get_by_role("button", name="记录并发布结论").click()
    await page.wait_for_selector("text=评审结论已记录并公开发布")
    await page.context.clear_cookies()
    await page.goto(f"{base}/challenges")
    await page.get_by_role("link", name=PROJECT_CHALLENGE).first.click()
    delivery = await page.locator("#delivery").inner_text()
    assert "清华大学" in delivery and "予以通过" in delivery and "通过验收" in delivery
