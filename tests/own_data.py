"""Hand-made export sets as real systems write them, for the "use your own data" tests.

``worked_example`` writes the README's worked example (a DMS work-order XLSX with a title row,
a 问卷星 survey export saved by Excel as GBK CSV, a hotline complaints workbook with a notes
sheet, and the ``sources.yaml`` that maps them); it is also committed under
``docs/examples/own-data/``. The other writers make further sets: different header spellings,
title rows, sheet layouts, encodings, only visits + surveys.

    python tests/own_data.py docs/examples/own-data   # rewrite the committed worked example
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

import numpy as np
import openpyxl

CENTERS = ("上海金桥店", "北京望京店", "广州天河店")
SCENARIOS = ("保养", "维修", "事故维修")
ADVISORS = ("王磊", "李娜", "张伟", "刘洋")
MODELS = ("ES6", "ET5", "EC7")


def _visits(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        arrived = dt.datetime(2026, 9, 1, 8) + dt.timedelta(
            days=int(rng.integers(0, 60)), minutes=int(rng.integers(0, 540))
        )
        repair = dt.timedelta(minutes=int(rng.integers(40, 400)))
        out.append(
            {
                "id": f"RO{arrived:%Y%m%d}{i:04d}",
                "customer": f"C{int(rng.integers(10000, 99999))}",
                "center": CENTERS[i % 3],
                "scenario": SCENARIOS[int(rng.integers(0, 3))],
                "model": MODELS[int(rng.integers(0, 3))],
                "advisor": ADVISORS[int(rng.integers(0, 4))],
                "plate": f"沪A{int(rng.integers(10000, 99999))}",
                "arrived": arrived,
                "finished": arrived + repair,
                "delivered": arrived + repair + dt.timedelta(minutes=int(rng.integers(10, 60))),
                "amount": round(float(rng.uniform(300, 6000)), 2),
                "ltr": int(rng.integers(0, 11)),
                "notify": int(rng.integers(1, 11)),
            }
        )
    return out


def _xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


def _csv_bytes(rows: list[list], encoding: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


# ------------------------------------------------------------------- the worked example
WORKED_SOURCES = """\
# How the exports in this folder map onto the data contract (see docs/data-contract.md).
visits:                                  # the DMS work-order export
  files: ["DMS工单导出_*.xlsx"]
  header_row: 2                          # row 1 is the title of the export
  rename:
    门店: center
    业务类型: scenario
    车主编号: customer_id
    进厂时间: arrived_at
    服务顾问: advisor                    # carried as an extra dimension (segment)
  values:
    scenario: {保养: maintenance, 维修: repair, 事故维修: accident}
  drop: [车牌号]                         # personal data no analysis needs
  date_formats: ["%Y.%m.%d %H:%M"]
surveys:                                 # the 问卷星 export, saved by Excel as GBK CSV
  use: wjx
  files: ["问卷星_*.csv"]
  rename:
    您对等待期间的进度通知满意吗: score_notification
complaints:                              # the hotline's complaint log
  files: ["热线投诉登记.xlsx"]
  sheet: 投诉记录                        # the workbook also has a notes sheet
  rename: {投诉单号: complaint_id, 关联工单: visit_id, 来电时间: filed_at, 问题分类: category}
"""


def worked_example(folder: Path, n: int = 60) -> Path:
    """The README's worked example: DMS XLSX + 问卷星 GBK CSV + hotline complaints workbook."""
    folder.mkdir(parents=True, exist_ok=True)
    visits = _visits(n, 20260927)
    header = [
        "工单号",
        "门店",
        "业务类型",
        "车主编号",
        "车型",
        "服务顾问",
        "车牌号",
        "进厂时间",
        "完工时间",
        "交车时间",
        "结算金额(元)",
    ]
    rows = [["XX新能源售后 DMS 工单明细导出（2026年9月-10月）"], header]
    for v in visits:
        rows.append(
            [
                v["id"],
                v["center"],
                v["scenario"],
                v["customer"],
                v["model"],
                v["advisor"],
                v["plate"],
                f"{v['arrived']:%Y.%m.%d %H:%M}",
                v["finished"],
                v["delivered"],
                v["amount"],
            ]
        )
    _xlsx(folder / "DMS工单导出_2026-09-10.xlsx", {"工单明细": rows})
    survey = [
        [
            "序号",
            "提交答卷时间",
            "所用时间",
            "来源",
            "来源详情",
            "来自IP",
            "1、您的工单号",
            "2、您向亲友推荐我们服务中心的可能性有多大？",
            "3、您对等待期间的进度通知满意吗？",
            "4、您还有什么意见或建议？",
        ]
    ]
    for i, v in enumerate(visits[: n * 2 // 3], start=1):
        sub = v["delivered"] + dt.timedelta(hours=20)
        survey.append(
            [
                i,
                f"{sub.year}/{sub.month}/{sub.day} {sub:%H:%M:%S}",
                f"{60 + i}秒",
                "微信",
                "N/A",
                f"116.228.{i}.{i}(上海-上海)",
                v["id"],
                v["ltr"],
                v["notify"],
                "等太久了，电话13912345678" if i == 3 else "服务很好",
            ]
        )
    (folder / "问卷星_售后满意度调研.csv").write_bytes(_csv_bytes(survey, "gbk"))
    complaints = [["投诉单号", "关联工单", "来电时间", "问题分类", "受理坐席"]]
    for i, v in enumerate(visits[::9], start=1):
        t = v["delivered"] + dt.timedelta(days=1)
        complaints.append(
            [f"TS{i:05d}", v["id"], f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}", "等待时间过长", "坐席07"]
        )
    _xlsx(folder / "热线投诉登记.xlsx", {"说明": [["本表由热线系统导出，每行一个投诉"]], "投诉记录": complaints})
    (folder / "sources.yaml").write_text(WORKED_SOURCES, encoding="utf-8")
    return folder


# ------------------------------------------------------------------------ further sets
def english_xls_qualtrics(folder: Path, n: int = 40) -> Path:
    """Visits as a legacy .xls with English headers of its own and month-first dates, surveys as
    a Qualtrics CSV (UTF-8 with BOM, three header rows), centers as CSV; no touchpoints, no complaints."""
    import xlwt

    folder.mkdir(parents=True, exist_ok=True)
    visits = _visits(n, 7)
    codes = {"上海金桥店": "SH-JQ", "北京望京店": "BJ-WJ", "广州天河店": "GZ-TH"}
    book = xlwt.Workbook()
    ws = book.add_sheet("Orders")
    head = [
        "Order No",
        "Customer",
        "Dealer",
        "Service Type",
        "Vehicle Model",
        "Check-in",
        "Check-out",
        "Invoice Amount",
        "Bay",
    ]
    for j, h in enumerate(head):
        ws.write(0, j, h)
    eng = {"保养": "Maintenance", "维修": "Repair", "事故维修": "Accident Repair"}
    for i, v in enumerate(visits, start=1):
        vals = [
            v["id"],
            v["customer"],
            codes[v["center"]],
            eng[v["scenario"]],
            v["model"],
            f"{v['arrived'].month}/{v['arrived'].day}/{v['arrived'].year} {v['arrived']:%H:%M}",
            f"{v['delivered'].month}/{v['delivered'].day}/{v['delivered'].year} {v['delivered']:%H:%M}",
            v["amount"],
            f"B{i % 4}",
        ]
        for j, x in enumerate(vals):
            ws.write(i, j, x)
    book.save(str(folder / "dms_orders.xls"))
    (folder / "centers.csv").write_text(
        "center_id,name_zh,city,aliases\nSH-JQ,上海金桥服务中心,上海,上海金桥店\nBJ-WJ,北京望京服务中心,北京,北京望京店\n"
        "GZ-TH,广州天河服务中心,广州,广州天河店\n",
        encoding="utf-8",
    )
    rows = [
        [
            "StartDate",
            "EndDate",
            "Status",
            "IPAddress",
            "Progress",
            "Duration (in seconds)",
            "Finished",
            "RecordedDate",
            "ResponseId",
            "RecipientEmail",
            "DistributionChannel",
            "UserLanguage",
            "Q1",
            "Q2",
            "WorkOrder",
        ],
        [
            "Start Date",
            "End Date",
            "Response Type",
            "IP Address",
            "Progress",
            "Duration (in seconds)",
            "Finished",
            "Recorded Date",
            "Response ID",
            "Recipient Email",
            "Distribution Channel",
            "User Language",
            "How likely are you to recommend our service center to a friend or colleague?",
            "What could we do better?\n(optional)",
            "WorkOrder",
        ],
        [
            json.dumps({"ImportId": k})
            for k in (
                "startDate",
                "endDate",
                "status",
                "ipAddress",
                "progress",
                "duration",
                "finished",
                "recordedDate",
                "_recordId",
                "recipientEmail",
                "distributionChannel",
                "userLanguage",
                "QID1",
                "QID2_TEXT",
                "WorkOrder",
            )
        ],
    ]
    for i, v in enumerate(visits[::2], start=1):
        t = v["delivered"] + dt.timedelta(hours=30)
        rows.append(
            [
                f"{t - dt.timedelta(minutes=3):%Y-%m-%d %H:%M:%S}",
                f"{t:%Y-%m-%d %H:%M:%S}",
                "IP Address",
                f"10.0.0.{i}",
                100,
                180,
                "True",
                f"{t:%Y-%m-%d %H:%M:%S}",
                f"R_{i:015d}",
                f"u{i}@example.com",
                "email",
                "EN",
                v["ltr"],
                "Faster updates" if i % 3 else "",
                v["id"],
            ]
        )
    (folder / "Qualtrics_Service_Survey.csv").write_bytes(_csv_bytes(rows, "utf-8-sig"))
    (folder / "sources.yaml").write_text(
        """\
visits:
  files: [dms_orders.xls]
  rename: {Order No: visit_id, Customer: customer_id, Dealer: center, Service Type: scenario,
           Check-in: arrived_at, Check-out: delivered_at, Invoice Amount: amount_cny}
  values: {scenario: {Maintenance: maintenance, Repair: repair, Accident Repair: accident}}
  dayfirst: false
  tz: Asia/Shanghai
surveys:
  use: qualtrics
  files: ["Qualtrics_*.csv"]
  rename: {Q1: ltr, Q2: comment}
""",
        encoding="utf-8",
    )
    return folder


def stacked_sheets_only_visits_surveys(folder: Path, n: int = 40) -> Path:
    """Only visits and surveys: visits in one workbook with a sheet per month (stacked), contract
    Chinese headers with stray spaces and a unit; surveys as a Qualtrics XLSX. No centers table."""
    folder.mkdir(parents=True, exist_ok=True)
    visits = _visits(n, 11)
    head = ["工单号", "客户编号", " 服务中心 ", "服务类型", "到店时间", "交车时间", "结算金额（元）", "会员等级"]
    sheets: dict[str, list[list]] = {"9月": [head], "10月": [head]}
    for v in visits:
        sheet = "9月" if v["arrived"].month == 9 else "10月"
        sheets[sheet].append(
            [
                v["id"],
                v["customer"],
                v["center"],
                v["scenario"],
                v["arrived"],
                v["delivered"],
                f"¥{v['amount']:,.2f}",
                "金卡" if v["amount"] > 3000 else "普通",
            ]
        )
    _xlsx(folder / "visits_by_month.xlsx", sheets)
    rows = [
        ["RecordedDate", "ResponseId", "visit_id", "Q10"],
        ["Recorded Date", "Response ID", "visit_id", "推荐可能性 (0-10)"],
        [
            '{"ImportId":"recordedDate","timeZone":"Asia/Shanghai"}',
            '{"ImportId":"_recordId"}',
            '{"ImportId":"visit_id"}',
            '{"ImportId":"QID10"}',
        ],
    ]
    for i, v in enumerate(visits[::2], start=1):
        rows.append([v["delivered"] + dt.timedelta(hours=5), f"R_{i:06d}", v["id"], v["ltr"]])
    _xlsx(folder / "surveys_qualtrics.xlsx", {"Sheet0": rows})
    (folder / "sources.yaml").write_text(
        """\
visits:
  sheets: all
surveys:
  use: qualtrics
  rename: {Q10: ltr}
""",
        encoding="utf-8",
    )
    return folder


def gbk_title_rows_with_log(folder: Path, n: int = 30) -> Path:
    """GB18030 CSV visits with two title rows and extra columns, a touchpoint log with an extra
    column, a 问卷星 .xls export (按选项序号: option numbers 1..11 on the 0-10 question)."""
    import xlwt

    folder.mkdir(parents=True, exist_ok=True)
    visits = _visits(n, 5)
    rows = [
        ["工单导出"],
        ["导出时间：2026-11-01 08:00", ""],
        ["工单号", "客户编号", "服务中心", "服务类型", "到店时间", "交车时间", "服务顾问", "车型"],
    ]
    for v in visits:
        rows.append(
            [
                v["id"],
                v["customer"],
                v["center"],
                v["scenario"],
                f"{v['arrived']:%Y-%m-%d %H:%M:%S}",
                f"{v['delivered']:%Y-%m-%d %H:%M:%S}",
                v["advisor"],
                v["model"],
            ]
        )
    (folder / "visits.csv").write_bytes(_csv_bytes(rows, "gb18030"))
    log = [["工单号", "时间", "触点", "渠道", "含照片", "发送人"]]
    for v in visits:
        log.append(
            [
                v["id"],
                f"{v['arrived'] + dt.timedelta(minutes=30):%Y-%m-%d %H:%M:%S}",
                "进度实时推送",
                "线上",
                "是",
                v["advisor"],
            ]
        )
    (folder / "touchpoints.csv").write_bytes(_csv_bytes(log, "utf-8"))
    book = xlwt.Workbook()
    ws = book.add_sheet("Sheet1")
    head = [
        "序号",
        "提交答卷时间",
        "所用时间",
        "来源",
        "来自IP",
        "1、您的维修单号是？",
        "2、您愿意向朋友推荐我们吗？(0-10分)",
    ]
    for j, h in enumerate(head):
        ws.write(0, j, h)
    for i, v in enumerate(visits, start=1):
        sub = v["delivered"] + dt.timedelta(hours=3)
        for j, x in enumerate([i, f"{sub:%Y/%m/%d %H:%M:%S}", "30秒", "手机提交", "1.2.3.4", v["id"], v["ltr"] + 1]):
            ws.write(i, j, x)
    book.save(str(folder / "wjx_export.xls"))
    (folder / "sources.yaml").write_text(
        """\
visits:
  header_row: 3
surveys:
  use: wjx
  files: [wjx_export.xls]
  values: {ltr: {"1": "0", "2": "1", "3": "2", "4": "3", "5": "4", "6": "5", "7": "6", "8": "7", "9": "8",
                 "10": "9", "11": "10"}}
""",
        encoding="utf-8",
    )
    return folder


SETS = {
    "worked_example": worked_example,
    "english_xls_qualtrics": english_xls_qualtrics,
    "stacked_sheets_only_visits_surveys": stacked_sheets_only_visits_surveys,
    "gbk_title_rows_with_log": gbk_title_rows_with_log,
}


if __name__ == "__main__":  # pragma: no cover
    worked_example(Path(sys.argv[1]))
