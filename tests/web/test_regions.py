"""The GB/T 2260 table behind every organisation's region."""

from challenge.catalog import regions


def test_every_provincial_and_prefecture_level_division_is_listed():
    table = regions.regions()
    provinces = [code for code in table if code.endswith("0000")]
    prefectures = [code for code in table if code.endswith("00") and not code.endswith("0000")]
    assert len(provinces) == 34
    assert len(prefectures) == 333
    assert all(len(code) == 6 and code.isdigit() for code in table)
    assert all(regions.province_code(code) in table for code in table)


def test_well_known_codes():
    assert regions.name("320500") == "江苏省 苏州市"
    assert regions.name("440300") == "广东省 深圳市"
    assert regions.name("150600") == "内蒙古自治区 鄂尔多斯市"
    assert regions.name("652900") == "新疆维吾尔自治区 阿克苏地区"
    assert regions.name("429004") == "湖北省 仙桃市"
    assert not regions.is_valid("371200")  # 莱芜市, merged into 济南市 in 2019
    assert not regions.is_valid("999999")
