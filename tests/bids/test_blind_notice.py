"""The bid form of a blind challenge says so and what to remove, and warns the bidder of each
place the saved text and the PDFs' text name the team (short forms and pinyin included); experts
see those names masked."""

import io

import pikepdf

from challenge.bids import services
from challenge.bids.forms import MemberInput, PartnerInput
from challenge.bids.names import Names, organisation_variants, person_variants
from challenge.reviews import queries
from factories import credit_code, make_challenge
from factories.bids import full_content, make_bidder, make_draft, proposal_upload, storage_of


def pdf_with_text(pages: list[str]) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for text in pages:
        page = pdf.add_blank_page()
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_short_forms_and_pinyin():
    assert organisation_variants("清华大学") == {"清华大学", "清华"}
    assert "南方新材料" in organisation_variants("南方新材料股份有限公司")
    assert "过程工程研究所" in organisation_variants("中国科学院过程工程研究所")
    assert {"Zhang Wei", "Wei Zhang", "ZhangWei"} <= person_variants("张伟")
    assert {"Ouyang Mingyuan", "Mingyuan Ouyang"} <= person_variants("欧阳明远")
    assert "Ming Li" in person_variants("Li Ming")
    names = Names.of(organisations=["清华大学"], people=["张伟"])
    assert names.find("清华 THU / ZHANG WEI 团队，zhangwei@x") == ["清华", "ZHANG WEI", "zhangwei"]
    assert names.mask("清华 THU / Zhang Wei 团队") == "*** THU / *** 团队"
    assert names.find("Weizmann 和 Zhang Weiming") == []  # whole Latin words only


async def _blind_draft(settings, *, blind: bool = True):
    challenge = await make_challenge(blind_review=blind)
    bidder = await make_bidder(name="清华大学")
    bid, _created = await make_draft(challenge=challenge, bidder=bidder)
    content = await full_content(challenge, partners=[
        PartnerInput(name="南方新材料股份有限公司", org_type="enterprise", credit_code=credit_code())])
    content.approach = "由清华 THU / Zhang Wei 团队牵头，联合南方新材料开展吸收剂研究。"
    content.foundation = "已有千吨级中试平台。"
    content.members = [MemberInput(name="张伟", title="教授", role="负责人", organisation_name="清华大学")]
    storage = storage_of(settings)
    upload = await proposal_upload(storage, name="方案.pdf",
                                   data=pdf_with_text(["Technical approach", "Prepared by Zhang Wei, Tsinghua"]))
    await services.save_draft(bid=bid, actor=bidder, content=content, uploads=[upload], storage=storage)
    return bid, bidder


async def test_the_blind_bid_form_warns_of_each_name_before_submission(client, settings):
    bid, bidder = await _blind_draft(settings)
    await client.login(bidder.email)
    for url in (f"/bids/{bid.id}/edit", f"/bids/{bid.id}"):
        page = await client.get(url)
        assert page.status_code == 200 and "本榜单采用匿名评审" in page.text, url
        warnings = page.text.split('id="blind-warnings"')[1].split("</div>")[0]
        assert "技术路线" in warnings and "“清华”（1 处）" in warnings and "“Zhang Wei”（1 处）" in warnings
        assert "“南方新材料”（1 处）" in warnings
        assert "附件“方案.pdf”第 2 页" in warnings
        assert "已有基础" not in warnings and "第 1 页" not in warnings


async def test_an_open_review_has_no_blind_notice(client, settings):
    bid, bidder = await _blind_draft(settings, blind=False)
    await client.login(bidder.email)
    page = await client.get(f"/bids/{bid.id}/edit")
    assert page.status_code == 200 and "本榜单采用匿名评审" not in page.text


async def test_experts_see_the_short_forms_and_pinyin_masked(db, settings):
    bid, _bidder = await _blind_draft(settings)
    await bid.refresh_from_db()
    view = await queries.bid_view(bid=bid, code="A", is_blind=True)
    assert view.approach == "由*** THU / *** 团队牵头，联合***开展吸收剂研究。"
