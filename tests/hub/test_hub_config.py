"""Settings as data: defaults, DATA/config.toml, then overrides; unknown or mistyped settings are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import SETTINGS, ConfigError, HubConfig


def test_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    config = HubConfig.load(tmp_path)
    assert config.listen == "127.0.0.1:8700"
    assert config.status_interval_s == 15.0 and config.offline_after_missed == 3
    assert config.longpoll_max_s == 25.0 and config.down_batch_max_bytes == 256 * 1024
    assert config.max_blob_bytes == 2 * 1024**3
    assert {s.name for s in SETTINGS.settings} == {
        "listen", "status_interval_s", "status_timeout_s", "status_concurrency", "offline_after_missed",
        "longpoll_max_s", "down_batch_max_bytes", "max_blob_bytes", "body_grace_s", "body_min_bytes_per_s",
        "tls", "tls_names", "rollout_check_s",
    }
    assert config.tls is False, "contract v2: TLS only when settings turn it on"


def test_config_toml_is_read_and_overrides_win(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('status_interval_s = 30\nlisten = "0.0.0.0:9000"\n')
    config = HubConfig.load(tmp_path, listen="127.0.0.1:1234", status_concurrency=None)
    assert config.status_interval_s == 30.0
    assert config.listen == "127.0.0.1:1234"
    assert config.status_concurrency == 16
    assert config.listen_host_port == ("127.0.0.1", 1234)


@pytest.mark.parametrize(
    ("text", "reason"),
    [('nonsense = 1\n', '"nonsense" is not a setting of village-hub'),
     ('status_interval_s = "fast"\n', '"status_interval_s" must be a number, not the text "fast"'),
     ("status_concurrency = 0\n", '"status_concurrency" must be greater than 0, not 0'),
     ('listen = "x"\n', '"listen" must be HOST:PORT'),
     ("offline_after_missed = true\n", '"offline_after_missed" must be an integer, not true'),
     ("this is not toml", "is not valid TOML")],
)
def test_bad_settings_are_refused_with_a_reason(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as refused:
        HubConfig.load(tmp_path)
    assert str(refused.value).startswith(f"{tmp_path / 'config.toml'}")
    assert reason in str(refused.value)


def test_a_config_file_given_by_path_replaces_the_data_folders_one(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("status_interval_s = 30\n")
    other = tmp_path / "other.toml"
    other.write_text("status_concurrency = 4\n")
    config = HubConfig.load(tmp_path, other)
    assert config.status_concurrency == 4 and config.status_interval_s == 15.0


def test_a_bad_override_is_refused_naming_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='the command line: "listen" must be HOST:PORT'):
        HubConfig.load(tmp_path, overrides_from="the command line", listen="8700")
    with pytest.raises(ConfigError, match='did you mean "status_interval_s"'):
        HubConfig.load(tmp_path, status_interval=3.0)
