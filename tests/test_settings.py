"""Settings files as a technician meets them: the real `village-edge serve` and `village-hub serve` read a TOML
file, refuse a bad one with exit 2 and one sentence naming the key and the file, and docs/settings.md stays true."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

import pytest

from deploy.local_processes import BIN, Service, free_port, run_command
from deploy.settings_doc import COMMAND, DOC, render
from tests.edge.conftest import provision

PROGRAMS = ("village-edge", "village-hub")
SECONDS_SETTING = {"village-edge": "backoff_max_s", "village-hub": "status_interval_s"}


def serve(program: str, data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`serve` that is expected to stop at once; the timeout only guards against one that starts after all."""
    return subprocess.run([str(BIN / program), "serve", "--data", str(data), *extra],
                          capture_output=True, text=True, timeout=30)


def assert_refused_in_one_sentence(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("program", PROGRAMS)
def test_a_setting_of_the_wrong_type_stops_serve_with_exit_2_naming_the_key_and_the_file(
        tmp_path: Path, program: str) -> None:
    key = SECONDS_SETTING[program]
    config = tmp_path / "box.toml"
    config.write_text(f'listen = "127.0.0.1:1"\n{key} = "soon"\n')
    proc = serve(program, tmp_path / "data", "--config", str(config))
    assert_refused_in_one_sentence(proc, f'"{key}"', str(config), "must be a number", '"soon"')


@pytest.mark.parametrize(("program", "typo", "meant"),
                         [("village-edge", "longpol_s", "longpoll_s"), ("village-hub", "status_intervall_s",
                                                                         "status_interval_s")])
def test_an_unknown_key_stops_serve_with_exit_2_and_suggests_the_closest_known_name(
        tmp_path: Path, program: str, typo: str, meant: str) -> None:
    config = tmp_path / "box.toml"
    config.write_text(f"{typo} = 2.0\n")
    proc = serve(program, tmp_path / "data", "--config", str(config))
    assert_refused_in_one_sentence(proc, f'"{typo}"', str(config), f'did you mean "{meant}"?')


@pytest.mark.parametrize("program", PROGRAMS)
def test_a_file_that_is_not_toml_or_a_value_out_of_range_stops_serve_with_exit_2(
        tmp_path: Path, program: str) -> None:
    not_toml = tmp_path / "not.toml"
    not_toml.write_text("listen = \n")
    assert_refused_in_one_sentence(serve(program, tmp_path / "data", "--config", str(not_toml)),
                                   str(not_toml), "is not valid TOML", "line 1")
    out_of_range = tmp_path / "range.toml"
    key = SECONDS_SETTING[program]
    out_of_range.write_text(f"{key} = 0\n")
    assert_refused_in_one_sentence(serve(program, tmp_path / "data", "--config", str(out_of_range)),
                                   str(out_of_range), f'"{key}"', "greater than 0")


@pytest.mark.parametrize("program", PROGRAMS)
def test_without_config_the_data_folders_config_toml_is_read_and_checked(tmp_path: Path, program: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.toml").write_text("listen = 8600\n")
    assert_refused_in_one_sentence(serve(program, data), str(data / "config.toml"), '"listen"', "must be text")


def test_a_missing_config_file_stops_serve_with_exit_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    assert_refused_in_one_sentence(serve("village-edge", tmp_path / "data", "--config", str(missing)),
                                   str(missing), "no such settings file")


def answers_on_the_port_its_file_names(program: str, data: Path, config_text: str, ready_path: str,
                                      tmp_path: Path) -> bool:
    """Start `program serve --config FILE` with no --listen; the port comes only from the file."""
    port = free_port()
    config = tmp_path / f"{program}.toml"
    config.write_text(f'listen = "127.0.0.1:{port}"\n{config_text}')
    url = f"http://127.0.0.1:{port}"
    service = Service(program, [str(BIN / program), "serve", "--data", str(data), "--config", str(config)], url,
                      tmp_path / f"{program}.log")
    try:
        service.start(ready_path=ready_path)
        with urllib.request.urlopen(url + ready_path, timeout=5) as resp:
            return resp.status == 200
    finally:
        service.stop()


def test_the_edge_serves_on_the_port_its_config_file_names_and_ignores_the_data_folders_file(tmp_path: Path) -> None:
    data = tmp_path / "edge"
    provision(data)
    # --config replaces DATA/config.toml: this broken one must not be read.
    (data / "config.toml").write_text("not a setting = at all\n")
    assert answers_on_the_port_its_file_names("village-edge", data, "mdns = false\nbackoff_max_s = 1\n",
                                              "/api/v1/info", tmp_path)


def test_the_hub_serves_on_the_port_its_config_file_names(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run_command("village-hub", "init", "--data", str(data))
    assert answers_on_the_port_its_file_names("village-hub", data, "status_interval_s = 30\n", "/api/v1/trust",
                                              tmp_path)


def test_docs_settings_md_is_what_the_settings_tables_generate(tmp_path: Path) -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        f"docs/settings.md is stale: regenerate it with `.venv/bin/{COMMAND}` and commit it")
    out = tmp_path / "settings.md"
    subprocess.run([str(BIN / "python"), "-m", "deploy.settings_doc", str(out)], check=True, capture_output=True,
                   cwd=DOC.parent.parent, timeout=60)
    assert out.read_text(encoding="utf-8") == render()
