"""Settings precedence and validation: command line > environment > file > defaults."""

from __future__ import annotations

import pytest

from mlmon.config import DEFAULT_TRACKING_URI, MetricThreshold, load_settings
from mlmon.errors import ConfigError


def write_config(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = load_settings(config_path=None)
    assert settings.tracking_uri == DEFAULT_TRACKING_URI
    assert settings.refresh_seconds == 30.0


def test_precedence_cli_env_file(tmp_path, monkeypatch):
    path = write_config(tmp_path, 'tracking_uri = "http://127.0.0.1:1111"\nrefresh_seconds = 12\n')
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert load_settings(config_path=path).tracking_uri == "http://127.0.0.1:1111"

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:2222")
    assert load_settings(config_path=path).tracking_uri == "http://127.0.0.1:2222"

    settings = load_settings(tracking_uri="sqlite:///x.db", refresh_seconds=5, config_path=path)
    assert settings.tracking_uri == "sqlite:///x.db"
    assert settings.refresh_seconds == 5


def test_model_table_parsed(tmp_path):
    path = write_config(
        tmp_path,
        """
[models."spx-direction"]
task = "classification"
predictions = "/var/log/spx/*.parquet"
metrics = { accuracy = { warning = 0.52, critical = 0.50, direction = "below" } }
""",
    )
    model = load_settings(config_path=path).model("spx-direction")
    assert model.task == "classification"
    assert model.predictions == "/var/log/spx/*.parquet"
    assert model.metrics["accuracy"] == MetricThreshold(warning=0.52, critical=0.50, direction="below")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("refresh_seconds = 'fast'\n", "'fast'"),
        ("colour = 1\n", "'colour'"),
        ('[models."m"]\ntask = "ranking"\n', "'ranking'"),
        ('[models."m"]\nmetrics = { acc = { warning = 0.5, direction = "sideways" } }\n', "'sideways'"),
        ("refresh_seconds = 0\n", "0 s (refresh_seconds in"),
        ('[models."m"]\nperiods_per_year = 0\n', "periods_per_year 0"),
        ("connect_timeout = 0\n", "connect_timeout 0.0 in config file"),
        ("max_retries = -1\n", "max_retries -1 in config file"),
        ("tracking_uri = [1\n", "Invalid TOML"),
    ],
)
def test_invalid_values_named(tmp_path, text, named):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path=path)
    assert named in caught.value.title
    assert caught.value.fix


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(config_path=tmp_path / "absent.toml")


def test_type_error_fix_in_words(tmp_path):
    path = write_config(tmp_path, "read_timeout = 'slow'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path=path)
    assert caught.value.fix == "Use a number."


def test_non_utf8_config_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"tracking_uri = \"\xff\xfe\"\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path=path)
    assert "not UTF-8" in caught.value.title
    assert str(path) in caught.value.title


def test_refresh_option_named(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(refresh_seconds=0.5, config_path=None)
    assert "--refresh" in caught.value.title
