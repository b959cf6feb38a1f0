"""A staff account made at the city reaches the village box and opens its staff page; a bad one is refused."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import urllib.parse
import urllib.request

from deploy.local_processes import BIN

from .system import System, wait_for


def log_in(edge_url: str, user: str, password: str) -> str:
    """Log in through the real form, as a browser would; returns the page the login lands on."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(edge_url + "/staff/login", timeout=10) as resp:
        csrf = re.search(r'name="csrf" value="([^"]+)"', resp.read().decode())
    assert csrf
    form = urllib.parse.urlencode({"username": user, "password": password, "csrf": csrf.group(1)}).encode()
    try:
        with opener.open(edge_url + "/staff/login", data=form, timeout=10) as resp:
            return str(resp.url)
    except urllib.error.HTTPError as err:
        return f"refused {err.code}"


def staff_add(s: System, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "village-hub"), "staff", "add", "--data", str(s.hub_dir), *args],
                          input=password + "\n", capture_output=True, text=True, timeout=60)


def test_a_staff_account_made_at_the_hub_can_log_in_at_its_village_only(two_villages: System):
    s = two_villages
    s.hub.start(ready_path="/api/v1/trust")
    v1, v2 = s.edges["v1"].start(), s.edges["v2"].start()
    made = staff_add(s, "--village", "v1", "--user", "wang.li", "--role", "staff", password="春天来了青山绿水123")
    assert made.returncode == 0, made.stderr
    landed = wait_for("the hub's account to open v1's staff page",
                      lambda: (u := log_in(v1.url, "wang.li", "春天来了青山绿水123")).endswith("/staff/") and u, timeout_s=20)
    assert landed.endswith("/staff/")
    assert not log_in(v1.url, "wang.li", "wrong-password").endswith("/staff/")
    assert not log_in(v2.url, "wang.li", "春天来了青山绿水123").endswith("/staff/")


def test_a_weak_password_or_unknown_village_is_refused_with_a_reason(two_villages: System):
    s = two_villages
    weak = staff_add(s, "--village", "v1", "--user", "wang", "--role", "staff", password="123")
    assert weak.returncode == 2 and "8" in weak.stderr
    unknown = staff_add(s, "--village", "nowhere", "--user", "wang", "--role", "staff", password="long-enough-1")
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr
