"""Where the client finds its URLs and token: arguments, then environment, then profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelgate.config import read_profiles, resolve, save_profile
from modelgate.errors import ConfigError


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "modelgate" / "config.toml"
    save_profile(
        "default",
        {"url": "https://profile.example", "token": "profile-token"},
        path,
    )
    save_profile(
        "ci",
        {
            "url": "https://ci.example/",
            "ingest_url": "https://ingest.ci.example",
            "audit_url": "https://audit.ci.example",
            "token": "ci-token",
        },
        path,
    )
    return path


def test_the_profile_supplies_what_nothing_else_does(config: Path) -> None:
    settings = resolve(env={}, path=config)
    assert settings.url == "https://profile.example"
    assert settings.ingest_url == "https://profile.example"  # one ingress for all three
    assert settings.audit_url == "https://profile.example"
    assert settings.token == "profile-token"
    assert settings.profile == "default"


def test_environment_overrides_the_profile_value_by_value(config: Path) -> None:
    env = {"MODELGATE_TOKEN": "env-token", "MODELGATE_INGEST_URL": "https://ingest.env"}
    settings = resolve(env=env, path=config)
    assert settings.token == "env-token"
    assert settings.ingest_url == "https://ingest.env"
    assert settings.url == "https://profile.example"


def test_arguments_override_the_environment(config: Path) -> None:
    env = {"MODELGATE_URL": "https://env.example", "MODELGATE_TOKEN": "env-token"}
    settings = resolve(url="https://arg.example/", token="arg-token", env=env, path=config)
    assert settings.url == "https://arg.example"
    assert settings.token == "arg-token"


def test_a_named_profile_is_chosen_by_argument_or_environment(config: Path) -> None:
    by_arg = resolve(profile="ci", env={}, path=config)
    by_env = resolve(env={"MODELGATE_PROFILE": "ci"}, path=config)
    for settings in (by_arg, by_env):
        assert settings.url == "https://ci.example"
        assert settings.ingest_url == "https://ingest.ci.example"
        assert settings.audit_url == "https://audit.ci.example"
        assert settings.token == "ci-token"


def test_an_unknown_profile_is_an_error_not_a_silent_default(config: Path) -> None:
    with pytest.raises(ConfigError, match="no profile 'prod'"):
        resolve(profile="prod", env={}, path=config)


def test_login_may_name_a_profile_it_is_about_to_create(config: Path) -> None:
    settings = resolve(
        profile="prod", url="https://prod.example", env={}, path=config, new_profile=True
    )
    assert settings.url == "https://prod.example"
    assert settings.token is None  # nothing of another profile leaks into it


def test_without_any_configuration_the_local_stack_is_used(tmp_path: Path) -> None:
    settings = resolve(env={}, path=tmp_path / "absent.toml")
    assert settings.url == "http://127.0.0.1:8080"
    assert settings.ingest_url == "http://127.0.0.1:8081"
    assert settings.audit_url == "http://127.0.0.1:8082"
    assert settings.token is None


def test_the_config_file_path_follows_modelgate_config(config: Path) -> None:
    settings = resolve(env={"MODELGATE_CONFIG": str(config)})
    assert settings.token == "profile-token"


def test_profiles_are_written_0600_and_others_kept(config: Path) -> None:
    assert oct(os.stat(config).st_mode & 0o777) == "0o600"
    save_profile("default", {"url": "https://new.example", "token": 'q"uote\\d'}, config)
    profiles = read_profiles(config)
    assert profiles["default"] == {"url": "https://new.example", "token": 'q"uote\\d'}
    assert profiles["ci"]["token"] == "ci-token"


def test_a_file_others_can_read_is_refused(config: Path) -> None:
    config.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        resolve(env={}, path=config)


def test_a_broken_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[profiles.default\nurl = ")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve(env={}, path=path)


def test_the_token_is_not_in_the_repr(config: Path) -> None:
    assert "profile-token" not in repr(resolve(env={}, path=config))


def _signed_in(path: Path) -> None:
    save_profile(
        "sso",
        {
            "url": "https://sso-profile.example",
            "oidc_issuer": "https://idp.example/realms/ai",
            "oidc_client_id": "modelgate",
            "refresh_token": "refresh-1",
        },
        path,
    )


def test_a_provider_sign_in_is_kept_as_a_refresh_token_and_becomes_a_session(
    config: Path,
) -> None:
    _signed_in(config)
    stored = read_profiles(config)["sso"]
    assert stored["refresh_token"] == "refresh-1"
    assert stored["oidc_issuer"] == "https://idp.example/realms/ai"
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    settings = resolve(env={}, path=config, profile="sso")
    assert settings.token is None
    assert settings.session is not None
    assert settings.session.issuer == "https://idp.example/realms/ai"
    assert "refresh-1" not in repr(settings)  # never printed by accident


def test_a_token_given_wins_over_the_profile_s_session(config: Path) -> None:
    _signed_in(config)
    settings = resolve(env={"MODELGATE_TOKEN": "from-env"}, path=config, profile="sso")
    assert settings.session is None
    assert settings.bearer() == "from-env"


def test_a_refresh_token_without_its_issuer_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_profile("default", {"url": "https://x.example", "refresh_token": "r"}, path)
    with pytest.raises(ConfigError, match="no oidc_issuer"):
        resolve(env={}, path=path)
