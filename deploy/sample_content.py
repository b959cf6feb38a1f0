"""Sample notices in Chinese for the demo, spread over several of the eight service areas."""

from __future__ import annotations

SAMPLE_NOTICES: list[dict[str, str]] = [
    {"area": "party", "priority": "normal", "scope": "city",
     "title": "主题党日活动通知", "body": "本月25日上午9点在村委会会议室开展主题党日活动，请全体党员准时参加。"},
    {"area": "services", "priority": "normal", "scope": "city",
     "title": "城乡居民医保缴费指南", "body": "2027年度城乡居民医疗保险开始缴费，可在村便民服务点或手机上办理，带好身份证。"},
    {"area": "community", "priority": "normal", "scope": "village:{v1}",
     "title": "东山村垃圾分类宣传", "body": "每周三、周六上午回收可回收物，请将纸板、塑料瓶分开放好。"},
    {"area": "safety", "priority": "urgent", "scope": "city",
     "title": "冬季防火安全提醒", "body": "天干物燥，请勿在山林附近焚烧秸秆，家中电暖器用完请及时断电。"},
    {"area": "elderly", "priority": "normal", "scope": "town:{town}",
     "title": "老年人免费体检安排", "body": "65岁以上老人可于下周二到镇卫生院免费体检，需要接送的请联系村委会。"},
    {"area": "interaction", "priority": "normal", "scope": "city",
     "title": "“我为家乡建言”意见征集", "body": "欢迎通过电视遥控器提交您对村里道路、路灯、卫生的意见和建议。"},
    {"area": "meetings", "priority": "normal", "scope": "village:{v2}",
     "title": "西山村村民代表大会预告", "body": "12月5日下午2点召开村民代表大会，会议将在电视上直播，可用遥控器投票。"},
]

# Drafted by the town editor for the two edge villages and left in the town reviewer's queue.
REVIEW_SAMPLE: dict[str, str] = {
    "area": "community", "priority": "normal",
    "title": "青溪镇秋冬季道路维修通知",
    "body": "下周一至周三，东山村至西山村的村道分段维修，请绕行镇中心路。\n施工期间请照看好老人和孩子，注意安全。",
}
