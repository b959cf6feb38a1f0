"""The org and accounts from the real `village-hub` command: town add, unit add, org import of a city's sheet
(.xlsx and .csv, all or nothing), user add with the password on stdin."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
from pathlib import Path

import openpyxl
import pytest

from protocol.passwords import verify_password

from .test_hub_cli import HUB_CMD, run

HEADER = ["类型", "编号", "名称", "上级"]


def city_rows() -> list[list[str]]:
    """14 towns and 85 villages (6 or 7 a town), two units, as an office's sheet lists them."""
    rows = [["镇街", f"t{t:02d}", f"第{t}镇", ""] for t in range(1, 15)]
    rows += [["村", f"v{v:03d}", f"{v}号村", f"t{(v - 1) % 14 + 1:02d}"] for v in range(1, 86)]
    rows += [["单位", "mzj", "民政局", "市"], ["单位", "pcs-01", "第1镇派出所", "t01"]]
    return rows


def write_sheet(path: Path, rows: list[list[str]]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f).writerows([HEADER, *rows])
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for row in [HEADER, *rows]:
            sheet.append(row)
        book.save(path)
    return path


def counts(data: Path) -> tuple[int, int, int]:
    with sqlite3.connect(data / "hub.db") as db:
        return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[return-value]
                     for t in ("towns", "villages", "units"))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    hub = tmp_path / "hub"
    assert run("init", "--data", str(hub)).returncode == 0
    return hub


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_org_import_of_fourteen_towns_and_eighty_five_villages_works(data: Path, tmp_path: Path, suffix: str) -> None:
    sheet = write_sheet(tmp_path / f"city{suffix}", city_rows())
    result = run("org", "import", "--data", str(data), str(sheet))
    assert result.returncode == 0, result.stderr
    assert "14 towns, 85 villages and 2 units" in result.stdout
    assert counts(data) == (14, 85, 2)
    with sqlite3.connect(data / "hub.db") as db:
        assert db.execute("SELECT v.name, t.name FROM villages v JOIN towns t ON t.id = v.town_id"
                          " WHERE v.id = 'v015'").fetchone() == ("15号村", "第1镇")
        assert db.execute("SELECT parent FROM units ORDER BY id").fetchall() == [("city",), ("town:t01",)]
    again = run("org", "import", "--data", str(data), str(sheet))  # the same sheet again changes nothing
    assert again.returncode == 0 and counts(data) == (14, 85, 2)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_one_bad_row_imports_nothing_and_names_the_row(data: Path, tmp_path: Path, suffix: str) -> None:
    rows = city_rows()
    rows[40] = ["村", "v027", "27号村", "t99"]  # a village in a town nobody has: sheet row 42
    sheet = write_sheet(tmp_path / f"city{suffix}", rows)
    result = run("org", "import", "--data", str(data), str(sheet))
    assert result.returncode == 2
    assert "1 bad row(s); nothing was imported" in result.stderr
    assert "第 42 行 row 42" in result.stderr and "t99" in result.stderr
    assert counts(data) == (0, 0, 0)


def test_every_bad_row_is_listed_by_its_number(data: Path, tmp_path: Path) -> None:
    rows = city_rows()
    rows[0] = ["镇街", "t01", "", ""]  # row 2: no name
    rows[20] = ["村", "../v", "坏村", "t01"]  # row 22: a bad id
    rows[30] = ["乡", "x1", "某乡", ""]  # row 32: an unknown type
    rows.append(["村", "v001", "重复村", "t01"])  # row 103: the same village twice
    result = run("org", "import", "--data", str(data), str(write_sheet(tmp_path / "city.csv", rows)))
    assert result.returncode == 2
    listed = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert [line.split(" ")[1] for line in listed] == ["2", "22", "32", "103"]
    assert counts(data) == (0, 0, 0)


def test_a_file_that_is_not_a_sheet_is_refused_in_one_line(data: Path, tmp_path: Path) -> None:
    broken = tmp_path / "city.xlsx"
    broken.write_bytes(b"not a zip at all")
    result = run("org", "import", "--data", str(data), str(broken))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    other = tmp_path / "city.txt"
    other.write_text("x")
    assert run("org", "import", "--data", str(data), str(other)).returncode == 2


def test_town_add_renames_and_unit_add_needs_an_existing_town(data: Path) -> None:
    assert run("town", "add", "--data", str(data), "--id", "cg", "--name", "城关").returncode == 0
    renamed = run("town", "add", "--data", str(data), "--id", "cg", "--name", "城关镇")
    assert renamed.returncode == 0 and "renamed" in renamed.stdout
    missing = run("unit", "add", "--data", str(data), "--id", "pcs", "--name", "派出所", "--parent", "town:nowhere")
    assert missing.returncode == 2 and "town:nowhere" in missing.stderr
    ok = run("unit", "add", "--data", str(data), "--id", "pcs", "--name", "派出所", "--parent", "town:cg")
    assert ok.returncode == 0, ok.stderr
    with sqlite3.connect(data / "hub.db") as db:
        assert db.execute("SELECT name FROM towns").fetchall() == [("城关镇",)]
        assert db.execute("SELECT id, parent FROM units").fetchall() == [("pcs", "town:cg")]


def test_user_add_reads_the_password_from_stdin_and_again_resets_it(data: Path) -> None:
    run("town", "add", "--data", str(data), "--id", "cg", "--name", "城关镇")

    def add(password: str, roles: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([HUB_CMD, "user", "add", "--data", str(data), "--user", "li", "--role", roles,
                               "--scope", "town:cg", "--name", "李四"], input=password + "\n",
                              capture_output=True, text=True, timeout=60)

    first = add("first-password", "editor")
    assert first.returncode == 0, first.stderr
    second = add("second-password", "editor,reviewer")
    assert second.returncode == 0 and "reset" in second.stdout
    with sqlite3.connect(data / "hub.db") as db:
        name, roles, scope, pw_hash = db.execute("SELECT name, roles, scope, pw_hash FROM officials").fetchone()
    assert (name, roles, scope) == ("李四", "editor,reviewer", "town:cg")
    assert verify_password("second-password", pw_hash)
    weak = add("short", "editor")
    assert weak.returncode == 2 and len(weak.stderr.strip().splitlines()) == 1
    bad_scope = subprocess.run([HUB_CMD, "user", "add", "--data", str(data), "--user", "x", "--role", "editor",
                                "--scope", "town:nowhere"], input="good-password\n", capture_output=True, text=True,
                               timeout=60)
    assert bad_scope.returncode == 2


def test_user_disable_ends_the_accounts_sessions(data: Path) -> None:
    subprocess.run([HUB_CMD, "user", "add", "--data", str(data), "--user", "li", "--role", "viewer", "--scope",
                    "city"], input="good-password\n", capture_output=True, text=True, timeout=60, check=True)
    with sqlite3.connect(data / "hub.db") as db:
        db.execute("INSERT INTO sessions VALUES ('h', 'li', 'bearer', 'c', 0, 9e12)")
    result = run("user", "disable", "--data", str(data), "--user", "li")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(data / "hub.db") as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
        assert db.execute("SELECT disabled_at IS NOT NULL FROM officials").fetchone() == (1,)
    assert run("user", "disable", "--data", str(data), "--user", "nobody").returncode == 2
