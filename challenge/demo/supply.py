"""Demo technology offers (技术成果) in several domains and states, matches shown for the accepted
needs, and 对接 requests in every state, all made through the services."""

from challenge.needs.models import Need
from challenge.supply import contacts, matching
from challenge.supply import services as supply
from challenge.supply.models import ContactStatus, OfferStatus
from challenge.supply.services import OfferContent, ParameterRow

# (owner's e-mail, final state, domain index, content, screening reason)
OFFERS = [
    ("bidder@demo.cn", OfferStatus.PUBLISHED, 0, {
        "name": "工业中低温余热有机朗肯循环发电成套技术",
        "summary": "利用 80—250℃ 工业中低温烟气和热水余热发电的有机朗肯循环成套装置，模块化设计、无人值守。",
        "core_process": "低沸点有机工质在高效板壳式蒸发器中吸收余热汽化，驱动螺杆膨胀机发电，乏汽经空冷冷凝器冷却后由工质泵送回蒸发器循环。",
        "scope": "钢铁烧结环冷机、轧钢加热炉，水泥窑头窑尾，玻璃窑和化工装置的中低温余热回收发电。",
        "energy_saved_tce": 6000, "co2_reduced_t": 16000, "cost_wan": 1800,
        "benefits_text": "单套装机 2 兆瓦时年发电约 1500 万千瓦时，投资回收期约 4 年。",
        "ip_status": "granted", "patent_numbers": "ZL202110123456.7，ZL202210654321.0",
        "transfer_modes": ["licence", "codevelop"],
        "contact_name": "陈教授", "contact_phone": "010-62781234", "contact_email": "bidder@demo.cn",
        "parameters": [("发电效率", "13.5", "%"), ("余热温度下限", "80", "℃"), ("单机装机容量", "2", "MW")],
    }, ""),
    ("bidder2@demo.cn", OfferStatus.PUBLISHED, 5, {
        "name": "低能耗复合胺燃烧后二氧化碳捕集技术",
        "summary": "采用新型复合胺吸收剂和级间冷却、富液分流工艺，从燃煤电厂和工业烟气中捕集二氧化碳。",
        "core_process": "烟气经预洗降温后进入吸收塔，复合胺溶液吸收二氧化碳成为富液，经贫富液换热后在再生塔中解吸，产品气压缩干燥。",
        "scope": "燃煤和燃气电厂、钢铁、水泥和化工行业的烟气二氧化碳捕集。",
        "energy_saved_tce": None, "co2_reduced_t": 100000, "cost_wan": 12000,
        "benefits_text": "再生能耗较传统乙醇胺工艺降低约 30%，吸收剂降解损耗低，捕集成本可降至 250 元每吨以下。",
        "ip_status": "granted", "patent_numbers": "ZL202010987654.3",
        "transfer_modes": ["licence", "equity", "codevelop"],
        "contact_name": "周研究员", "contact_phone": "010-82541234", "contact_email": "bidder2@demo.cn",
        "parameters": [("捕集率", "92", "%"), ("二氧化碳产品纯度", "99.5", "%"), ("再生能耗", "2.2", "GJ/t CO₂")],
    }, ""),
    ("bidder2@demo.cn", OfferStatus.PUBLISHED, 1, {
        "name": "高盐废水分质结晶与盐资源化技术",
        "summary": "纳滤分盐与机械蒸汽再压缩蒸发结晶结合，把印染、煤化工等高盐废水处理为回用水和工业级氯化钠、硫酸钠。",
        "core_process": "高盐废水经软化和高级氧化去除有机物与色度，纳滤分离一价和二价盐，分别进入 MVR 蒸发器和冷冻结晶器，结晶盐离心干燥。",
        "scope": "印染园区、煤化工、电厂脱硫等高含盐废水近零排放。",
        "energy_saved_tce": 800, "co2_reduced_t": 2100, "cost_wan": 3500,
        "benefits_text": "杂盐产生量减少 85% 以上，结晶盐达到工业盐一级标准可出售，吨水处理成本约 22 元。",
        "ip_status": "applied", "patent_numbers": "CN202310111222.X",
        "transfer_modes": ["transfer", "licence"],
        "contact_name": "周研究员", "contact_phone": "010-82541234", "contact_email": "bidder2@demo.cn",
        "parameters": [("水回用率", "93", "%"), ("吨水处理成本", "22", "元"), ("杂盐减少比例", "85", "%")],
    }, ""),
    ("bidder@demo.cn", OfferStatus.PUBLISHED, 2, {
        "name": "退役动力电池智能拆解与湿法再生技术",
        "summary": "退役动力电池快速健康状态检测、智能拆解和湿法冶金再生一体化技术。",
        "core_process": "电池包经快速交流阻抗检测分选，可梯次利用的重组成储能模组；其余带电破碎、分选黑粉，经还原浸出、萃取分离镍钴锰并沉淀电池级碳酸锂。",
        "scope": "三元和磷酸铁锂动力电池、储能电池及生产废料的回收利用企业。",
        "energy_saved_tce": None, "co2_reduced_t": 30000, "cost_wan": 9000,
        "benefits_text": "锂综合回收率高、废水循环利用，产品达到电池级，减少原生矿开采。",
        "ip_status": "granted", "patent_numbers": "ZL202120111333.5",
        "transfer_modes": ["licence", "codevelop"],
        "contact_name": "陈教授", "contact_phone": "010-62781234", "contact_email": "bidder@demo.cn",
        "parameters": [("锂综合回收率", "96", "%"), ("镍、钴、锰回收率", "98.8", "%"), ("健康状态评估时间", "8", "分钟")],
    }, ""),
    ("enterprise@demo.cn", OfferStatus.RETURNED, 1, {
        "name": "烧结烟气低温选择性催化还原脱硝技术",
        "summary": "钢铁烧结烟气低温 SCR 脱硝技术。",
        "core_process": "烟气经换热升温至 180℃ 进入低温催化剂反应器，精准喷氨还原氮氧化物。",
        "scope": "钢铁烧结机和球团烟气的氮氧化物治理。",
        "energy_saved_tce": None, "co2_reduced_t": None, "cost_wan": 2600,
        "benefits_text": "出口氮氧化物稳定达到超低排放要求。",
        "ip_status": "none", "patent_numbers": "",
        "transfer_modes": ["codevelop"],
        "contact_name": "黄经理", "contact_phone": "021-26641234", "contact_email": "enterprise@demo.cn",
        "parameters": [("脱硝效率", "90", "%")],
    }, "请补充第三方检测报告中的出口氮氧化物浓度和氨逃逸数据，并说明已运行的工程案例。"),
    ("bidder2@demo.cn", OfferStatus.SUBMITTED, 2, {
        "name": "混合废塑料催化热解制油技术",
        "summary": "把难以物理回收的混合废塑料催化热解为热解油，作为化工原料重新进入石化产业链。",
        "core_process": "废塑料经破碎、脱氯预处理后在连续式螺旋反应器中 450℃ 催化热解，热解气冷凝为热解油，不凝气回用作燃料。",
        "scope": "生活垃圾分拣出的混合废塑料、农膜和包装废塑料。",
        "energy_saved_tce": None, "co2_reduced_t": 12000, "cost_wan": 6000,
        "benefits_text": "每吨废塑料产油约 0.75 吨，减少焚烧和填埋。",
        "ip_status": "applied", "patent_numbers": "CN202410222333.1",
        "transfer_modes": ["licence"],
        "contact_name": "周研究员", "contact_phone": "010-82541234", "contact_email": "bidder2@demo.cn",
        "parameters": [("出油率", "75", "%"), ("热解油氯含量", "10", "ppm")],
    }, ""),
    ("enterprise@demo.cn", OfferStatus.DRAFT, 3, {
        "name": "氢基竖炉直接还原铁球团适应性评价技术",
        "summary": "氢基竖炉用球团矿还原膨胀和强度评价方法（草稿）。",
        "core_process": "", "scope": "", "energy_saved_tce": None, "co2_reduced_t": None, "cost_wan": None,
        "benefits_text": "", "ip_status": "none", "patent_numbers": "", "transfer_modes": [],
        "contact_name": "黄经理", "contact_phone": "021-26641234", "contact_email": "enterprise@demo.cn",
        "parameters": [],
    }, ""),
]

# (requester's e-mail, need title, offer name, final state, message, note)
CONTACTS = [
    ("submitter@demo.cn", "印染行业高盐废水近零排放与资源化技术", "高盐废水分质结晶与盐资源化技术",
     ContactStatus.REQUESTED, "盛泽印染产业园污水处理厂拟开展分盐结晶改造，希望了解贵所技术的投资和运行成本。", ""),
    ("huaneng@demo.cn", "燃煤电厂烟气低能耗二氧化碳捕集技术", "低能耗复合胺燃烧后二氧化碳捕集技术",
     ContactStatus.ACCEPTED, "我集团拟建 50 万吨/年捕集示范装置，希望就吸收剂工业验证开展合作。", "欢迎来所交流，可安排中试装置参观。"),
    ("gdce@demo.cn", "退役动力电池高值化梯次利用与再生技术", "退役动力电池智能拆解与湿法再生技术",
     ContactStatus.DECLINED, "协会会员企业希望引进智能拆解和湿法再生技术。", "团队今年已与两家企业签订独家许可，暂不能接受新的合作。"),
    ("association@demo.cn", "钢铁行业中低温余热高效回收利用技术", "工业中低温余热有机朗肯循环发电成套技术",
     ContactStatus.SIGNED, "协会组织 3 家会员钢铁企业开展烧结环冷机余热发电示范，希望合作。", "已签订技术许可和联合示范合同，首台套装置明年投运。"),
]


async def load(ctx, settings) -> None:
    admin = ctx.users["admin@demo.cn"]
    domains = ctx.domains
    offers = {}
    for email, final, domain_index, fields, reason in OFFERS:
        owner = ctx.users[email]
        values = dict(fields)
        parameters = [ParameterRow(name=n, value=v, unit=u) for n, v, u in values.pop("parameters")]
        content = OfferContent(domain_id=domains[domain_index].id, trl=7 if final != OfferStatus.DRAFT else None,
                               parameters=parameters, **values)
        offer = await supply.save_offer(actor=owner, offer=None, content=content)
        offers[offer.name] = offer
        if final == OfferStatus.DRAFT:
            continue
        await supply.set_offer_status(offer=offer, status=OfferStatus.SUBMITTED, actor=owner)
        if final in {OfferStatus.PUBLISHED, OfferStatus.RETURNED}:
            await supply.set_offer_status(offer=offer, status=final, actor=admin, reason=reason)

    # The accepted needs' pages have been seen: their matches count in the funnel.
    index = await matching.OfferIndex.load()
    for need in await Need.filter(id__in=[n.id for n in ctx.extra.get("accepted_needs", [])]):
        await matching.record_shown(index.rank(matching.need_subject(need)))

    needs = {need.title: need for need in ctx.extra.get("needs", [])}
    for email, need_title, offer_name, final, message, note in CONTACTS:
        requester, offer = ctx.users[email], offers[offer_name]
        owner = ctx.users[next(e for e, _s, _d, f, _r in OFFERS if f["name"] == offer_name)]
        contact = await contacts.request_contact(actor=requester, offer=offer, need=needs[need_title], message=message)
        if final == ContactStatus.REQUESTED:
            continue
        response = ContactStatus.DECLINED if final == ContactStatus.DECLINED else ContactStatus.ACCEPTED
        await contacts.set_contact_status(contact=contact, status=response, actor=owner,
                                          note=note if final in {ContactStatus.ACCEPTED, ContactStatus.DECLINED} else "")
        if final == ContactStatus.SIGNED:
            await contacts.set_contact_status(contact=contact, status=final, actor=requester, note=note)

