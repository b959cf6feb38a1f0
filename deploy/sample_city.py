"""The demo's city: 14 towns (镇街), 85 villages with Chinese names, a few units, and officials at each level.

Written as the org sheet an office keeps (`village-hub org import`), so the demo sets the city up the way a real
install does. Two villages of 青溪镇 (dongshan, xishan) run real edges in the demo.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

EDGE_TOWN = "qingxi"
EDGE_VILLAGES = [("dongshan", "东山村"), ("xishan", "西山村")]

# (town id, town name, its villages' names); ids of villages are the town's id and a number.
TOWNS: list[tuple[str, str, list[str]]] = [
    ("qingxi", "青溪镇", ["东山村", "西山村", "南塘村", "北岭村", "青溪社区", "柳湾村", "石桥村"]),
    ("chengguan", "城关街道", ["东关社区", "西关社区", "南门社区", "北门社区", "文昌社区", "新华社区"]),
    ("baihe", "白河镇", ["白河村", "上坝村", "下坝村", "枣林村", "龙泉村", "杏花村"]),
    ("songling", "松岭镇", ["松岭村", "松林村", "高岭村", "大坪村", "小坪村", "云峰村"]),
    ("taoyuan", "桃源镇", ["桃源村", "桃花村", "李家庄村", "王家湾村", "张家坪村", "陈家岭村"]),
    ("heping", "和平镇", ["和平村", "团结村", "胜利村", "光明村", "前进村", "幸福村"]),
    ("lianhua", "莲花镇", ["莲花村", "荷塘村", "新塘村", "双塘村", "莲池社区", "清水村"]),
    ("jinshan", "金山镇", ["金山村", "银山村", "铜鼓村", "铁炉村", "宝山村", "金星村"]),
    ("shuikou", "水口镇", ["水口村", "河口村", "渡口村", "码头村", "沙洲村", "江边村"]),
    ("yangliu", "杨柳镇", ["杨柳村", "杨家村", "柳树村", "榆树村", "槐树村", "杨柳社区"]),
    ("fengshou", "丰收镇", ["丰收村", "丰年村", "五谷村", "稻香村", "麦田村", "粮丰村"]),
    ("xinglong", "兴隆镇", ["兴隆村", "兴旺村", "隆昌村", "永安村", "长乐村", "兴隆社区"]),
    ("daqiao", "大桥镇", ["大桥村", "小桥村", "新桥村", "老桥村", "桥头社区", "望江村"]),
    ("gushan", "孤山镇", ["孤山村", "马鞍山村", "狮子山村", "凤凰村", "鹿鸣村", "龙湾村"]),
]

# (unit id, name, parent): the city's civil affairs bureau, a town's civil affairs office, a police station.
UNITS = [
    ("mzj", "市民政局", "city"),
    ("qingxi-mzb", "青溪镇民政办", "town:qingxi"),
    ("qingxi-pcs", "青溪派出所", "town:qingxi"),
]

# Demo officials, one login each, printed by `make demo`: (user, name, roles, scope, what they do).
DEMO_PASSWORD = "demo-2026"
OFFICIALS = [
    ("shi-guanli", "赵建国", "admin,viewer", "city", "市级管理员 city admin"),
    ("shi-shenhe", "王敏", "reviewer,viewer", "city", "市级审核员 city reviewer"),
    ("qingxi-bianji", "李娜", "editor,viewer", "town:qingxi", "青溪镇编辑 town editor"),
    ("qingxi-shenhe", "陈刚", "reviewer,viewer", "town:qingxi", "青溪镇审核员 town reviewer"),
    ("qingxi-paidan", "刘洋", "dispatcher,viewer", "town:qingxi", "青溪镇派单员 dispatcher"),
    ("mzb-banli", "孙丽", "handler", "unit:qingxi-mzb", "青溪镇民政办承办人 handler"),
]


def village_rows() -> list[tuple[str, str, str]]:
    """(village id, name, town id) for all 85 villages; the edge villages keep their ids."""
    fixed = dict((name, vid) for vid, name in EDGE_VILLAGES)
    rows = []
    for town_id, _, names in TOWNS:
        for n, name in enumerate(names, start=1):
            vid = fixed.get(name) if town_id == EDGE_TOWN else None
            rows.append((vid or f"{town_id}-{n:02d}", name, town_id))
    return rows


# The demo city lies in hilly country south of the Yangtze (a made-up place): the city centre here, its towns on a
# ring some 15-30 km out, each town's villages within a few km of it.
CENTRE = (29.87, 119.42)


def village_coordinates() -> dict[str, tuple[float, float]]:
    """Plausible (latitude, longitude) of every village, the same on every run."""
    spots: dict[str, tuple[float, float]] = {}
    by_town: dict[str, list[str]] = {}
    for vid, _, town_id in village_rows():
        by_town.setdefault(town_id, []).append(vid)
    for t, (town_id, _, _) in enumerate(TOWNS):
        angle, reach = 2 * math.pi * t / len(TOWNS), (0.06 if town_id == "chengguan" else 0.16 + 0.1 * (t % 3))
        town_lat, town_lon = CENTRE[0] + reach * math.sin(angle), CENTRE[1] + reach * 1.15 * math.cos(angle)
        for v, vid in enumerate(by_town[town_id]):
            turn = 2 * math.pi * v / len(by_town[town_id]) + t
            spots[vid] = (round(town_lat + 0.035 * math.sin(turn), 5), round(town_lon + 0.04 * math.cos(turn), 5))
    return spots


def write_org_sheet(path: Path, edge_urls: dict[str, str]) -> Path:
    """The org sheet (UTF-8 CSV with Chinese headers), with the edge villages' status addresses and every
    village's coordinates."""
    spots = village_coordinates()
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["类型", "编号", "名称", "上级", "终端地址", "纬度", "经度"])
        for town_id, town_name, _ in TOWNS:
            out.writerow(["镇街", town_id, town_name, "", "", "", ""])
        for vid, name, town_id in village_rows():
            out.writerow(["村", vid, name, town_id, edge_urls.get(vid, ""), *spots[vid]])
        for unit_id, name, parent in UNITS:
            out.writerow(["单位", unit_id, name, "市" if parent == "city" else parent.partition(":")[2], "", "", ""])
    return path
