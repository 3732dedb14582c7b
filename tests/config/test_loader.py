"""Config layering: shipped defaults < config.yaml < IMAJIN_* environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from imajin.config.loader import defaults_text, load_settings
from imajin.config.settings import Settings
from imajin.errors import ConfigError


def write_config(directory: Path, data: dict[str, object]) -> Path:
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_shipped_defaults_file_matches_the_model_defaults(tmp_path: Path) -> None:
    # The YAML is what operators read; the model is what code uses. They must not drift.
    from_file = Settings.model_validate(yaml.safe_load(defaults_text()))
    assert from_file == Settings()


def test_defaults_alone(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.server.port == 8000
    assert settings.server.host == "127.0.0.1"
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'imajin.db'}"


def test_config_yaml_in_working_directory_overrides_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, {"server": {"port": 9100}, "logging": {"format": "json"}})
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.server.port == 9100
    assert settings.logging.format == "json"
    # Keys the file does not mention keep their defaults (sections merge deeply).
    assert settings.server.host == "127.0.0.1"
    assert settings.logging.level == "INFO"


def test_explicit_config_path_wins_over_working_directory_file(tmp_path: Path) -> None:
    write_config(tmp_path, {"server": {"port": 9100}})
    other = tmp_path / "other"
    other.mkdir()
    explicit = write_config(other, {"server": {"port": 9200}})
    assert load_settings(explicit, environ={}, cwd=tmp_path).server.port == 9200
    assert load_settings(environ={"IMAJIN_CONFIG": str(explicit)}, cwd=tmp_path).server.port == 9200


def test_environment_overrides_file_and_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, {"server": {"port": 9100, "host": "127.0.0.2"}})
    environ = {
        "IMAJIN_SERVER__PORT": "9300",
        "IMAJIN_SERVER__CORS_ORIGINS": '["https://studio.example.com"]',
        "IMAJIN_DATA_DIR": str(tmp_path / "elsewhere"),
    }
    settings = load_settings(environ=environ, cwd=tmp_path)
    assert settings.server.port == 9300
    assert settings.server.host == "127.0.0.2"  # from the file, untouched by env
    assert settings.server.cors_origins == ["https://studio.example.com"]
    assert settings.data_dir == (tmp_path / "elsewhere").resolve()


def test_unrelated_and_test_variables_are_ignored(tmp_path: Path) -> None:
    environ = {"IMAJIN_TEST_POSTGRES_URL": "postgresql://x", "HOME": "/root", "PATH": "/bin"}
    assert load_settings(environ=environ, cwd=tmp_path).server.port == 8000


@pytest.mark.parametrize(
    ("environ", "file_data", "key", "origin"),
    [
        ({"IMAJIN_SERVER__PROT": "1"}, None, "server.prot", "IMAJIN_SERVER__PROT"),
        ({"IMAJIN_SERVER__PORT": "eighty"}, None, "server.port", "IMAJIN_SERVER__PORT"),
        ({"IMAJIN_BOGUS": "1"}, None, "bogus", "IMAJIN_BOGUS"),
        ({}, {"servre": {"port": 1}}, "servre", "config.yaml"),
        ({}, {"server": {"port": 70000}}, "server.port", "config.yaml"),
        ({}, {"logging": {"format": "xml"}}, "logging.format", "config.yaml"),
        ({}, {"database": {"url": "mysql://x"}}, "database.url", "config.yaml"),
        (
            {},
            {"auth": {"keys": [{"id": "a", "hash": "nothex", "scopes": ["read"]}]}},
            "auth.keys.0.hash",
            "config.yaml",
        ),
    ],
)
def test_bad_key_or_value_fails_naming_key_and_origin(
    tmp_path: Path,
    environ: dict[str, str],
    file_data: dict[str, object] | None,
    key: str,
    origin: str,
) -> None:
    if file_data is not None:
        write_config(tmp_path, file_data)
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ, cwd=tmp_path)
    assert key in caught.value.message
    assert origin in caught.value.message
    assert caught.value.field == key


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={}, cwd=tmp_path)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("server: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.yaml is not valid YAML"):
        load_settings(environ={}, cwd=tmp_path)


def test_non_mapping_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_settings(environ={}, cwd=tmp_path)


def test_settings_are_immutable(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        settings.server.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("127.0.0.5", True),
        ("0.0.0.0", False),
        ("192.0.2.10", False),
        ("example.org", False),
    ],
)
def test_loopback_detection(tmp_path: Path, host: str, loopback: bool) -> None:
    settings = load_settings(environ={"IMAJIN_SERVER__HOST": host}, cwd=tmp_path)
    assert settings.binds_loopback is loopback
