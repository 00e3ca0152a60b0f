"""`modelgate login` through the stack's real identity provider: the device-authorization flow,
approved by the test in a browser on Keycloak's own pages as a person would; then the CLI
calls the API with the tokens it obtained, keeps only the refresh token in a 0600 file, and
`modelgate logout` revokes it at the provider.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from modelgate_testkit.namespace import Namespace
from modelgate_testkit.oidc import OidcProvider
from tests.support.client_env import cli_env, cli_process, run_cli
from tests.support.gate import Gate

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

COMPLETE = re.compile(r"^or open (\S+)$")


def _env(gate: Gate, namespace: Namespace, config: Path) -> dict[str, str]:
    env = {**os.environ, **cli_env(gate, namespace, "developer", config)}
    del env["MODELGATE_TOKEN"]  # signing in is what this test does
    return env


async def _modelgate(env: dict[str, str], *args: str, code: int = 0) -> str:
    return (await asyncio.to_thread(run_cli, env, *args, code=code, timeout_s=120)).stdout


async def _approve(browser: Browser, url: str, provider: OidcProvider, user: str) -> None:
    """What the person does on another device: open the link, sign in, allow the device."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        page.set_default_timeout(20_000)
        await page.goto(url)
        await page.locator("#username").fill(user)
        await page.locator("#password").fill(provider.passwords[user])
        await page.locator("#kc-login").click()
        # Keycloak asks to confirm the device's access where its client wants consent.
        grant = page.locator("#kc-login, input[name=accept]")
        done = page.get_by_text(re.compile("Device Login Successful|successfully", re.I))
        await grant.or_(done).first.wait_for()
        if await grant.count() and not await done.count():
            await grant.first.click()
            await done.wait_for()
    finally:
        await context.close()


async def test_login_by_device_flow_then_models_ls_and_logout(
    browser: Browser, gate: Gate, namespace: Namespace, provider: OidcProvider, tmp_path: Path
) -> None:
    config = tmp_path / "config" / "config.toml"
    env = _env(gate, namespace, config)
    async with cli_process(env, "login", "--json") as login:
        assert login.stderr is not None
        printed: list[str] = []
        link = None
        while link is None:
            line = (await asyncio.wait_for(login.stderr.readline(), 60)).decode()
            assert line, f"modelgate login printed no verification link: {printed}"
            printed.append(line.rstrip())
            found = COMPLETE.match(line.strip())
            link = found.group(1) if found else None
        assert link.startswith(f"{provider.issuer}/device"), link
        assert re.fullmatch(r"  [A-Z]{4}-[A-Z]{4}", printed[1]), printed  # the code to type
        await _approve(browser, link, provider, "ai-developer")
        out, err = await asyncio.wait_for(login.communicate(), 60)
        assert login.returncode == 0, err.decode()
    signed: dict[str, Any] = json.loads(out)
    assert signed["method"] == "oidc"
    assert signed["subject"] == "ai-developer"
    assert signed["roles"] == ["developer"]

    # Only the refresh token is kept, in a file no one else may read.
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    profile = tomllib.loads(config.read_text())["profiles"]["default"]
    assert profile["oidc_issuer"] == provider.issuer
    assert profile["refresh_token"]
    assert "token" not in profile

    # Every later command renews an access token from it, with no token given anywhere.
    models = json.loads(await _modelgate(env, "models", "ls", "--json"))
    assert "items" in models
    me = json.loads(await _modelgate(env, "whoami", "--json"))
    assert (me["subject"], me["roles"]) == ("ai-developer", ["developer"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # a rotated token saved the same way

    refresh_token = tomllib.loads(config.read_text())["profiles"]["default"]["refresh_token"]
    out_json = json.loads(await _modelgate(env, "logout", "--json"))
    assert out_json["revoked_at_provider"] is True
    assert "refresh_token" not in tomllib.loads(config.read_text())["profiles"]["default"]
    # Revoked at the provider: the old refresh token renews nothing any more.
    renewed = await asyncio.to_thread(
        httpx.post,
        f"{provider.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": profile["oidc_client_id"],
        },
        timeout=30,
    )
    assert renewed.status_code == 400, renewed.text
    assert renewed.json()["error"] == "invalid_grant"
    await _modelgate(env, "models", "ls", "--json", code=4)  # no credentials: 401


async def test_login_with_no_provider_answer_is_refused_clearly(
    gate: Gate, namespace: Namespace, provider: OidcProvider, tmp_path: Path
) -> None:
    env = _env(gate, namespace, tmp_path / "config.toml")
    done = await asyncio.to_thread(
        run_cli, env, "login", "--issuer", f"{provider.issuer}-nope", code=4, timeout_s=60
    )
    assert "no OpenID provider there" in done.stderr
    assert not (tmp_path / "config.toml").exists()


async def test_login_in_the_browser_by_a_loopback_redirect(
    browser: Browser, gate: Gate, namespace: Namespace, provider: OidcProvider, tmp_path: Path
) -> None:
    """`--browser`: the provider sends the code to a one-shot server of the CLI on 127.0.0.1
    (here the test's Chromium plays the person's browser; BROWSER=true opens nothing)."""
    config = tmp_path / "config" / "config.toml"
    env = {**_env(gate, namespace, config), "BROWSER": "true"}
    async with cli_process(env, "login", "--browser", "--json") as login:
        assert login.stderr is not None
        line = (await asyncio.wait_for(login.stderr.readline(), 60)).decode().strip()
        assert line.startswith(f"Opening {provider.issuer}/protocol/openid-connect/auth?"), line
        url = line.removeprefix("Opening ")
        assert "code_challenge_method=S256" in url
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
        context = await browser.new_context()
        try:
            page = await context.new_page()
            page.set_default_timeout(20_000)
            await page.goto(url)
            await page.locator("#username").fill("ai-scientist")
            await page.locator("#password").fill(provider.passwords["ai-scientist"])
            await page.locator("#kc-login").click()
            await page.get_by_text("Modelgate: signed in.").wait_for()
            assert page.url.startswith("http://127.0.0.1:")
        finally:
            await context.close()
        out, err = await asyncio.wait_for(login.communicate(), 60)
        assert login.returncode == 0, err.decode()
    signed = json.loads(out)
    assert (signed["method"], signed["subject"]) == ("oidc", "ai-scientist")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    me = json.loads(await _modelgate(env, "whoami", "--json"))
    assert me["roles"] == ["data-scientist"]
