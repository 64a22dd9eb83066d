"""Configuration layering: defaults, instance/config.py, MITRA_* variables, test overrides."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from app.config import DEV_SECRET_KEY, Config, apply_environment


def test_defaults_use_sqlite_under_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MITRA_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("mitra.db")
    assert app.config["DEFAULT_MIN_GROUP_SIZE"] == 5
    assert app.config["BABEL_DEFAULT_LOCALE"] == "id"
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_environment_variables_override_with_types():
    config = {"DEFAULT_MIN_GROUP_SIZE": 5, "RATELIMIT_ENABLED": True, "REDIS_URL": None,
              "PERMANENT_SESSION_LIFETIME": timedelta(hours=1)}
    apply_environment(config, {
        "MITRA_DEFAULT_MIN_GROUP_SIZE": "7",
        "MITRA_RATELIMIT_ENABLED": "off",
        "MITRA_REDIS_URL": "redis://127.0.0.1:6379/0",
        "MITRA_PERMANENT_SESSION_LIFETIME": "600",
        "OTHER_VARIABLE": "ignored",
    })
    assert config["DEFAULT_MIN_GROUP_SIZE"] == 7
    assert config["RATELIMIT_ENABLED"] is False
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(seconds=600)
    assert "OTHER_VARIABLE" not in config


@pytest.mark.parametrize(("name", "value"), [
    ("MITRA_DEFAULT_MIN_GROUP_SIZE", "five"),
    ("MITRA_RATELIMIT_ENABLED", "maybe"),
])
def test_bad_environment_values_name_the_variable(name, value):
    config = {"DEFAULT_MIN_GROUP_SIZE": 5, "RATELIMIT_ENABLED": True}
    with pytest.raises(ValueError, match=name):
        apply_environment(config, {name: value})


def test_environment_is_read_by_the_factory_not_at_import(monkeypatch, tmp_path):
    monkeypatch.setenv("MITRA_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'env.db'}"


def test_instance_config_file_is_layered_between_defaults_and_environment(tmp_path, monkeypatch):
    import app as app_package

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("DEFAULT_MIN_GROUP_SIZE = 6\nREDIS_URL = 'redis://x'\n")
    monkeypatch.setattr(app_package.Flask, "auto_find_instance_path", lambda self: str(instance))
    monkeypatch.setenv("MITRA_REDIS_URL", "redis://from-env")
    application = app_package.create_app({"TESTING": True,
                                          "DATABASE_URL": f"sqlite:///{tmp_path / 'i.db'}"})
    assert application.config["DEFAULT_MIN_GROUP_SIZE"] == 6
    assert application.config["REDIS_URL"] == "redis://from-env"


def test_test_config_wins(tmp_path):
    app = create_app({"TESTING": True, "DEFAULT_MIN_GROUP_SIZE": 9,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"})
    assert app.config["DEFAULT_MIN_GROUP_SIZE"] == 9


def test_production_refuses_the_development_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": DEV_SECRET_KEY,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "short",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})


def test_production_forces_secure_cookies(tmp_path):
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "k" * 40,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_access_code_key_defaults_to_the_secret_key(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "s" * 40,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"})
    assert app.config["ACCESS_CODE_KEY"] == "s" * 40
    assert Config.ACCESS_CODE_KEY is None
