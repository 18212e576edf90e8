"""Demo campaigns and technology needs: one open campaign, one closed earlier one, needs of
every status across the six domains from regions, associations and enterprises.

Everything goes through the needs services, so the audit log tells the same story as the data.
"""

import hashlib
from datetime import datetime, time, timedelta
from decimal import Decimal

from challenge.accounts import passwords
from challenge.accounts.models import User
from challenge.audit import services as audit
from challenge.demo.base import DEMO_PASSWORD, join
from challenge.files.storage import make_storage
from challenge.files.uploads import UploadedFile
from challenge.needs import services
from challenge.needs.models import CampaignStatus, NeedStatus
from challenge.needs.services import NeedContent
from challenge.web.timefmt import beijing_to_utc, now_utc, to_beijing

# More submitter accounts, one per demo organisation that files needs (password: DEMO_PASSWORD).
SUBMITTERS = [
    ("huaneng@demo.cn", "何经理", "科技创新部经理", "华能清洁能源集团有限公司"),
    ("gdce@demo.cn", "林秘书长", "秘书长", "广东省循环经济协会"),
    ("ordos@demo.cn", "巴特尔", "应对气候变化科科长", "内蒙古自治区鄂尔多斯市生态环境局"),
    ("conch@demo.cn", "郑主任", "技术中心副主任", "海螺绿色建材股份有限公司"),
]
# Which account files the needs of each organisation.
FILER = {
    "江苏省工业和信息化厅": "submitter@demo.cn",
    "中国钢铁工业节能减排协会": "association@demo.cn",
    "宝武低碳冶金科技有限公司": "enterprise@demo.cn",
    "华能清洁能源集团有限公司": "huaneng@demo.cn",
    "广东省循环经济协会": "gdce@demo.cn",
    "内蒙古自治区鄂尔多斯市生态环境局": "ordos@demo.cn",
    "海螺绿色建材股份有限公司": "conch@demo.cn",
}

CLOSED_INSTRUCTIONS = """一、征集范围：面向钢铁、电力、化工、建材等重点行业和重点地区，征集制约绿色低碳转型的共性关键技术需求。
二、填报要求：每项需求须写明技术瓶颈、国内外研究现状、可考核的技术指标、应用场景和预期成果；鼓励提供配套资金和示范应用场景。
三、联系方式：项目管理办公室 010-68201234，xuqiu@demo.cn。"""

OPEN_INSTRUCTIONS = """一、征集范围：围绕六个重点领域（能源节约与绿色低碳转型、污染治理、资源节约集约循环利用、低碳与零碳工业流程再造、生态系统固碳增汇、负碳及温室气体减排），征集具有行业共性、攻关后可规模化应用的技术需求。
二、填报主体：各省级工业和信息化、生态环境主管部门，全国性和省级行业协会，重点企业。
三、填报要求：
1. 技术指标须量化、可考核，避免“国际领先”等定性表述；
2. 配套资金以万元为单位，如实填写；
3. 能提供示范应用场景的需求将优先编制为榜单；
4. 可上传需求论证材料（PDF、Word 等），单个文件不超过系统限制。
四、截止时间以系统显示的北京时间为准，逾期系统将不再接收提交。
五、咨询电话：010-68201234（工作日 9:00—17:00）。"""

# (campaign, organisation, domain index, final status, attach a PDF, fields, screening reason)
# Domain indexes follow the policy order: 0 energy saving, 1 pollution, 2 circular use,
# 3 industrial process, 4 ecosystem sinks, 5 negative carbon and GHG.
NEEDS = [
    ("closed", "宝武低碳冶金科技有限公司", 3, NeedStatus.ACCEPTED, True, {
        "title": "氢基竖炉直接还原炼铁关键技术",
        "bottleneck": "高炉—转炉长流程吨钢二氧化碳排放约 1.8 吨，氢基竖炉直接还原是深度脱碳的主要路径，但高比例氢气还原的热平衡、炉料强度和还原气循环等关键问题尚未解决，缺乏百万吨级工程经验。",
        "state_of_art": "瑞典 HYBRIT、德国 SALCOS 已建成中试或示范装置；国内已建成数十万吨级氢冶金示范线，但全氢还原条件下的炉型设计、球团矿适应性和系统能效仍与国外存在差距。",
        "target_indicators": "1. 还原气中氢气体积比例不低于 70%；\n2. 直接还原铁金属化率不低于 92%；\n3. 吨铁二氧化碳排放较高炉流程降低 50% 以上；\n4. 连续稳定运行不少于 720 小时。",
        "application_scenario": "宝武湛江钢铁基地百万吨级氢基竖炉示范工程，配套绿电制氢与焦炉煤气提氢设施。",
        "expected_results": "形成氢基竖炉工艺包和关键装备国产化方案，建成工业示范线，编制行业标准 1—2 项，申请发明专利 10 项以上。",
        "cofunding_wan": Decimal("5000"), "hosts_scenario": True,
        "contact_name": "黄经理", "contact_phone": "021-26641234", "contact_email": "enterprise@demo.cn",
    }, "技术路线清晰、指标可考核、配套条件充分，拟编制为揭榜挂帅榜单。"),
    ("closed", "华能清洁能源集团有限公司", 5, NeedStatus.ACCEPTED, True, {
        "title": "燃煤电厂烟气低能耗二氧化碳捕集技术",
        "bottleneck": "现有化学吸收法捕集燃煤烟气二氧化碳的再生能耗约 3.0 GJ/t，捕集成本高于 300 元/吨，吸收剂降解和设备腐蚀问题突出，制约百万吨级 CCUS 项目的经济性。",
        "state_of_art": "国外第二代胺类吸收剂再生能耗已降至 2.5 GJ/t 左右；国内已建成 15 万吨/年捕集示范，但新型吸收剂、高效填料和热集成工艺仍需突破。",
        "target_indicators": "1. 捕集率不低于 90%；\n2. 二氧化碳产品纯度不低于 99%；\n3. 再生能耗不高于 2.3 GJ/t CO₂；\n4. 捕集成本不高于 200 元/吨。",
        "application_scenario": "华能某 660MW 超超临界燃煤机组烟气侧线，规模 50 万吨/年。",
        "expected_results": "完成新型吸收剂工业验证，建成 50 万吨/年示范装置，形成成套技术和工程设计规范。",
        "cofunding_wan": Decimal("8000"), "hosts_scenario": True,
        "contact_name": "何经理", "contact_phone": "010-63221234", "contact_email": "huaneng@demo.cn",
    }, "与国家 CCUS 布局方向一致，依托单位提供示范场景，采纳。"),
    ("closed", "江苏省工业和信息化厅", 1, NeedStatus.ACCEPTED, False, {
        "title": "印染行业高盐废水近零排放与资源化技术",
        "bottleneck": "印染废水含盐量高、色度大、可生化性差，现有“生化+膜”工艺产生大量浓盐水和杂盐，杂盐按危险废物处置，成本高且存在二次污染风险。",
        "state_of_art": "国外采用分盐结晶与高级氧化组合工艺，投资和运行成本较高；国内部分园区开展了分盐中试，但硫酸钠、氯化钠产品纯度不稳定，难以资源化利用。",
        "target_indicators": "1. 水回用率不低于 90%；\n2. 分盐产品纯度达到工业盐一级标准；\n3. 吨水处理成本不高于 25 元；\n4. 杂盐产生量减少 80% 以上。",
        "application_scenario": "苏州市吴江区盛泽印染产业园集中污水处理厂，处理规模 2 万吨/日。",
        "expected_results": "建成万吨级示范工程，形成印染废水近零排放技术规范，在省内重点园区推广。",
        "cofunding_wan": Decimal("1500"), "hosts_scenario": True,
        "contact_name": "李处长", "contact_phone": "025-83331234", "contact_email": "submitter@demo.cn",
    }, ""),
    ("closed", "广东省循环经济协会", 2, NeedStatus.ACCEPTED, False, {
        "title": "退役动力电池高值化梯次利用与再生技术",
        "bottleneck": "退役动力电池规格杂、一致性差，快速检测分选效率低；湿法回收锂回收率偏低、废水量大，梯次利用产品安全评估缺乏统一方法。",
        "state_of_art": "国外以火法回收为主，锂回收率低；国内湿法回收镍钴回收率已超过 98%，但锂回收率约 85%，快速无损检测和智能拆解装备仍不成熟。",
        "target_indicators": "1. 单体电池健康状态快速评估时间不超过 10 分钟，误差不超过 5%；\n2. 锂综合回收率不低于 95%；\n3. 镍、钴、锰回收率不低于 98.5%；\n4. 吨电池废水排放降低 50%。",
        "application_scenario": "广东省内退役动力电池回收利用骨干企业，年处理能力 5 万吨。",
        "expected_results": "形成智能检测分选与绿色再生成套技术，建成示范生产线，制定团体标准 2 项。",
        "cofunding_wan": Decimal("2000"), "hosts_scenario": False,
        "contact_name": "林秘书长", "contact_phone": "020-83561234", "contact_email": "gdce@demo.cn",
    }, ""),
    ("closed", "内蒙古自治区鄂尔多斯市生态环境局", 4, NeedStatus.REJECTED, False, {
        "title": "采煤沉陷区土壤微生物固碳机理研究",
        "bottleneck": "采煤沉陷区土壤结构破坏、有机碳流失，土壤微生物在固碳过程中的作用机理尚不清楚，缺乏理论基础。",
        "state_of_art": "国内外对农田和森林土壤微生物固碳已有较多研究，针对采煤沉陷区特殊生境的研究较少。",
        "target_indicators": "阐明沉陷区土壤微生物群落演替与固碳的关系，发表高水平论文若干篇。",
        "application_scenario": "鄂尔多斯市伊金霍洛旗采煤沉陷区。",
        "expected_results": "揭示固碳机理，形成研究报告。",
        "cofunding_wan": Decimal("100"), "hosts_scenario": True,
        "contact_name": "巴特尔", "contact_phone": "0477-8581234", "contact_email": "ordos@demo.cn",
    }, "该需求属于基础研究，缺少可考核的工程技术指标，不宜以揭榜挂帅方式组织，建议申报自然科学基金等基础研究类项目。"),
    ("open", "内蒙古自治区鄂尔多斯市生态环境局", 4, NeedStatus.ACCEPTED, False, {
        "title": "荒漠草原生态系统固碳增汇关键技术与监测评估",
        "bottleneck": "荒漠草原生态脆弱、植被恢复慢，固碳增汇措施效果不稳定；碳汇计量依赖人工样方调查，成本高、精度低，难以支撑碳汇交易。",
        "state_of_art": "国外已形成基于遥感和涡度相关的草地碳通量监测体系；国内草原碳汇方法学尚不完善，荒漠草原适用的增汇技术和监测方法缺乏系统集成。",
        "target_indicators": "1. 示范区植被覆盖度提高 15 个百分点以上；\n2. 土壤有机碳储量年均增加不少于 0.3 吨碳/公顷；\n3. 碳汇监测精度优于 90%，单位面积监测成本降低 50%。",
        "application_scenario": "鄂尔多斯市鄂托克旗荒漠草原，示范面积 1 万亩。",
        "expected_results": "形成荒漠草原固碳增汇技术模式和碳汇计量监测方法学，支撑地方碳汇项目开发。",
        "cofunding_wan": Decimal("800"), "hosts_scenario": True,
        "contact_name": "巴特尔", "contact_phone": "0477-8581234", "contact_email": "ordos@demo.cn",
    }, "地方配套和示范条件落实，拟编制为赛马赛道。"),
    ("open", "中国钢铁工业节能减排协会", 0, NeedStatus.ACCEPTED, True, {
        "title": "钢铁行业中低温余热高效回收利用技术",
        "bottleneck": "钢铁企业 200℃ 以下中低温余热约占余热总量的一半，回收率不足 30%；现有有机朗肯循环发电效率低、投资回收期长，余热品位低且分散。",
        "state_of_art": "国外中低温余热发电以有机朗肯循环和卡琳娜循环为主，已有商业化装置；国内热泵和有机朗肯循环技术起步较晚，高效换热器和工质仍需突破。",
        "target_indicators": "1. 中低温余热回收率提高到 60% 以上；\n2. 有机朗肯循环发电效率不低于 12%；\n3. 吨钢综合能耗降低 8 千克标准煤以上；\n4. 投资回收期不超过 5 年。",
        "application_scenario": "协会会员钢铁企业烧结、炼钢和轧钢工序，可在 3 家企业开展示范。",
        "expected_results": "形成中低温余热梯级利用成套技术，在 3 家会员企业建成示范工程，编制行业推广目录。",
        "cofunding_wan": Decimal("3000"), "hosts_scenario": True,
        "contact_name": "刘秘书长", "contact_phone": "010-65131234", "contact_email": "association@demo.cn",
    }, "行业共性强、节能潜力大，采纳；烧结烟气余热的相关需求并入本需求统一编制。"),
    ("open", "中国钢铁工业节能减排协会", 0, NeedStatus.MERGED, False, {
        "title": "烧结烟气余热深度回收技术",
        "bottleneck": "烧结机尾部烟气和环冷机低温段烟气余热未被利用，烟气温度 150—250℃，现有技术回收经济性差。",
        "state_of_art": "国内大型烧结机已普遍配置余热锅炉，但低温段余热基本直接排放，国外有热管换热器应用案例。",
        "target_indicators": "1. 烧结工序余热回收率提高 15 个百分点；\n2. 吨烧结矿节能 3 千克标准煤以上。",
        "application_scenario": "会员企业 360 平方米烧结机。",
        "expected_results": "形成烧结低温烟气余热回收技术方案并完成示范。",
        "cofunding_wan": Decimal("600"), "hosts_scenario": True,
        "contact_name": "刘秘书长", "contact_phone": "010-65131234", "contact_email": "association@demo.cn",
    }, "与“钢铁行业中低温余热高效回收利用技术”需求范围重合，合并处理。"),
    ("open", "海螺绿色建材股份有限公司", 5, NeedStatus.SUBMITTED, False, {
        "title": "水泥窑全氧燃烧耦合二氧化碳捕集技术",
        "bottleneck": "水泥生产过程排放约占全国二氧化碳排放的 13%，其中石灰石分解排放难以通过节能措施削减；常规烟气捕集浓度低、能耗高。",
        "state_of_art": "欧洲水泥研究院在挪威开展了全氧燃烧中试；国内已建成 5 万吨/年水泥窑烟气化学吸收捕集示范，全氧燃烧工艺尚无工程应用。",
        "target_indicators": "1. 窑尾烟气二氧化碳浓度不低于 80%；\n2. 熟料质量满足 GB 175 要求；\n3. 捕集成本不高于 180 元/吨。",
        "application_scenario": "安徽芜湖 5000 吨/日熟料生产线。",
        "expected_results": "完成全氧燃烧水泥窑改造示范，形成工艺包和关键装备。",
        "cofunding_wan": Decimal("4500"), "hosts_scenario": True,
        "contact_name": "郑主任", "contact_phone": "0553-8391234", "contact_email": "conch@demo.cn",
    }, ""),
    ("open", "江苏省工业和信息化厅", 1, "resubmitted", False, {
        "title": "化工园区挥发性有机物综合治理与在线监测技术",
        "bottleneck": "化工园区挥发性有机物（VOCs）排放源多、组分复杂，无组织排放难以收集；现有在线监测设备对低浓度、多组分 VOCs 识别能力不足，溯源困难。",
        "state_of_art": "国外已有园区级 VOCs 立体监测和溯源系统；国内以单点监测为主，治理以末端焚烧为主，能耗和二次污染问题突出。",
        "target_indicators": "1. 园区 VOCs 排放总量削减 30% 以上；\n2. 在线监测可识别组分不少于 100 种，检出限不高于 1 ppb；\n3. 溯源定位误差不超过 200 米。",
        "application_scenario": "南京江北新材料科技园，园区面积 45 平方公里。",
        "expected_results": "建成园区 VOCs 监测溯源与治理示范系统，形成技术指南。",
        "cofunding_wan": Decimal("1200"), "hosts_scenario": True,
        "contact_name": "李处长", "contact_phone": "025-83331234", "contact_email": "submitter@demo.cn",
    }, "请补充监测组分数量和检出限等可考核指标，并说明示范园区的范围。"),
    ("open", "广东省循环经济协会", 2, NeedStatus.RETURNED, False, {
        "title": "废塑料化学循环制高值化学品技术",
        "bottleneck": "混合废塑料物理回收品质低，化学循环（热解、解聚）产物分布宽、催化剂易失活，经济性不足。",
        "state_of_art": "国外已有万吨级废塑料热解制油装置；国内以小规模热解为主，产品多作燃料使用。",
        "target_indicators": "显著提高产品收率，降低能耗，达到国际先进水平。",
        "application_scenario": "珠三角再生资源产业园。",
        "expected_results": "形成废塑料化学循环技术并推广应用。",
        "cofunding_wan": Decimal("1000"), "hosts_scenario": False,
        "contact_name": "林秘书长", "contact_phone": "020-83561234", "contact_email": "gdce@demo.cn",
    }, "技术指标不够量化：请补充处理规模、目标产品收率、单位能耗和催化剂寿命等可考核指标后重新提交。"),
    ("open", "宝武低碳冶金科技有限公司", 3, NeedStatus.REJECTED, False, {
        "title": "电弧炉短流程炼钢废钢预热技术",
        "bottleneck": "电弧炉冶炼电耗较高，废钢预热可降低电耗，但预热过程产生二噁英等污染物。",
        "state_of_art": "Consteel、竖井式等废钢预热电弧炉国内外均已有成熟商业应用。",
        "target_indicators": "1. 冶炼电耗降低 60 千瓦时/吨钢；\n2. 二噁英排放低于 0.1 ng-TEQ/m³。",
        "application_scenario": "宝武下属短流程钢厂 100 吨电弧炉。",
        "expected_results": "完成废钢预热系统改造。",
        "cofunding_wan": Decimal("2000"), "hosts_scenario": True,
        "contact_name": "黄经理", "contact_phone": "021-26641234", "contact_email": "enterprise@demo.cn",
    }, "该技术已有成熟商业化产品，不属于需要揭榜攻关的共性关键技术，建议通过技术改造项目实施。"),
    ("open", "华能清洁能源集团有限公司", 0, NeedStatus.DRAFT, False, {
        "title": "大规模压缩空气储能高效换热关键技术",
        "bottleneck": "压缩空气储能系统效率受压缩热回收和储热换热器性能限制，百兆瓦级系统效率约 60%。",
        "state_of_art": "",
        "target_indicators": "",
        "application_scenario": "",
        "expected_results": "",
        "cofunding_wan": None, "hosts_scenario": None,
        "contact_name": "何经理", "contact_phone": "010-63221234", "contact_email": "huaneng@demo.cn",
    }, ""),
    ("open", "江苏省工业和信息化厅", 5, NeedStatus.DRAFT, False, {
        "title": "化工园区二氧化碳捕集与矿化利用技术",
        "bottleneck": "",
        "state_of_art": "", "target_indicators": "", "application_scenario": "", "expected_results": "",
        "cofunding_wan": None, "hosts_scenario": None,
        "contact_name": "李处长", "contact_phone": "025-83331234", "contact_email": "submitter@demo.cn",
    }, ""),
    ("open", "内蒙古自治区鄂尔多斯市生态环境局", 5, NeedStatus.SUBMITTED, True, {
        "title": "煤化工高浓度二氧化碳驱油与地质封存技术",
        "bottleneck": "煤制油、煤制烯烃等项目排放大量高浓度二氧化碳，就近封存地质条件评价不足，长期封存安全监测技术缺乏。",
        "state_of_art": "国外已有百万吨级二氧化碳驱油封存项目；国内鄂尔多斯盆地开展过 10 万吨级咸水层封存示范，监测技术和风险评估体系仍需完善。",
        "target_indicators": "1. 年封存二氧化碳 100 万吨；\n2. 驱油采收率提高 8 个百分点以上；\n3. 封存泄漏监测灵敏度优于 0.1%，监测周期覆盖注入后 10 年。",
        "application_scenario": "鄂尔多斯市准格尔旗煤化工基地及周边油田区块。",
        "expected_results": "建成百万吨级驱油封存示范工程，形成封存场地评价与监测技术规范。",
        "cofunding_wan": Decimal("6000"), "hosts_scenario": True,
        "contact_name": "巴特尔", "contact_phone": "0477-8581234", "contact_email": "ordos@demo.cn",
    }, ""),
]


def tiny_pdf(text: str) -> bytes:
    """A small, valid one-page PDF showing `text` (ASCII), with a correct cross-reference table."""
    safe = text.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 760 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def _pdf_upload(storage, filename: str, text: str) -> UploadedFile:
    data = tiny_pdf(text)
    writer = await storage.writer()
    await writer.write(data)
    return UploadedFile(field="attachments", filename=filename, extension="pdf", size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), writer=writer)


async def _submitters(ctx) -> None:
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    for email, name, title, org_name in SUBMITTERS:
        user = await User.create(email=email, name=name, title=title, password_hash=password_hash,
                                 is_submitter=True)
        await audit.record(actor=None, action="user.create", obj=user,
                           after={"email": email, "roles": ["submitter"]}, note="demo")
        ctx.users[email] = await join(ctx, user, ctx.orgs[org_name])
    for user in ctx.users.values():
        await user.fetch_related("organisation")


async def load(ctx, settings) -> None:
    storage = make_storage(settings)
    await _submitters(ctx)
    admin = ctx.users["admin@demo.cn"]
    domains = ctx.domains
    now = now_utc()

    # An earlier campaign: its needs were submitted inside its window, then it closed.
    closed_opens = beijing_to_utc(datetime(2025, 9, 1, 9, 0))
    closed_closes = beijing_to_utc(datetime(2025, 10, 31, 17, 0))
    closed = await services.save_campaign(
        actor=admin, campaign=None, title="2025年度绿色技术需求征集（第二批）", instructions=CLOSED_INSTRUCTIONS,
        domains=domains, opens_at=closed_opens, closes_at=now + timedelta(days=1))
    await services.set_campaign_status(campaign=closed, status=CampaignStatus.OPEN, actor=admin)

    today = to_beijing(now).date()
    opens = beijing_to_utc(datetime.combine(today - timedelta(days=20), time(9, 0)))
    closes = beijing_to_utc(datetime.combine(today + timedelta(days=60), time(17, 0)))
    current = await services.save_campaign(
        actor=admin, campaign=None, title="2026年度绿色低碳技术需求征集（第一批）", instructions=OPEN_INSTRUCTIONS,
        domains=domains, opens_at=opens, closes_at=closes)
    await services.set_campaign_status(campaign=current, status=CampaignStatus.OPEN, actor=admin)

    created = {}
    accepted = []
    for index, (which, org_name, domain_index, final, with_pdf, fields, reason) in enumerate(NEEDS):
        campaign = closed if which == "closed" else current
        filer = ctx.users[FILER[org_name]]
        content = NeedContent(domain_id=domains[domain_index].id, **fields)
        uploads = [await _pdf_upload(storage, f"{fields['title']}-需求论证材料.pdf", f"Need brief {index + 1}")] \
            if with_pdf else []
        need = await services.save_need(actor=filer, need=None, campaign=campaign, content=content, uploads=uploads,
                                        storage=storage)
        created[fields["title"]] = need
        if final == NeedStatus.DRAFT:
            continue
        submitted_at = closed_opens + timedelta(days=3 + index) if which == "closed" else None
        await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=filer, now=submitted_at)
        if final == "resubmitted":
            await services.set_need_status(need=need, status=NeedStatus.RETURNED, actor=admin, reason=reason)
            content.target_indicators += "\n4. 示范园区范围：南京江北新材料科技园核心区 12 平方公里。"
            await services.save_need(actor=filer, need=need, content=content)
            await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=filer)
        elif final == NeedStatus.MERGED:
            target = created["钢铁行业中低温余热高效回收利用技术"]
            await services.set_need_status(need=need, status=NeedStatus.MERGED, actor=admin, reason=reason,
                                           merge_into=target)
        elif final != NeedStatus.SUBMITTED:
            await services.set_need_status(need=need, status=final, actor=admin, reason=reason)
        if final == NeedStatus.ACCEPTED:
            accepted.append(need)

    await services.save_campaign(actor=admin, campaign=closed, title=closed.title, instructions=CLOSED_INSTRUCTIONS,
                                 domains=domains, opens_at=closed_opens, closes_at=closed_closes)
    await services.set_campaign_status(campaign=closed, status=CampaignStatus.CLOSED, actor=admin)

    ctx.extra["campaigns"] = {"open": current, "closed": closed}
    ctx.extra["accepted_needs"] = accepted
    ctx.extra["needs"] = list(created.values())

