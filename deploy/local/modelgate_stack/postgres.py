"""PostgreSQL from Debian's packages, as a cluster the stack owns (own data dir and port).

As root, the server runs as the `postgres` user (initdb refuses root); as anyone else, as
that user. The system's own cluster, if any, is never touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import asyncpg

from modelgate_shared.db.migrate import SERVICES, migrate, service_schema
from modelgate_stack.config import StackConfig
from modelgate_stack.credentials import Credentials
from modelgate_stack.errors import StackError
from modelgate_stack.ports import ensure_free
from modelgate_stack.prereqs import ensure_postgres, postgres_bindir
from modelgate_stack.processes import ProcessTable

DATABASE = "modelgate"
OWNER_ROLE = "modelgate"
"""Owns every schema and runs the migrations; no running service connects as it."""
SERVICE_ROLES = {service: service_schema(service).default_role for service in SERVICES}
"""Each service's own role: only its own schema, with only what it needs there."""
# Nothing beyond logging in: a role attribute is cluster-wide, so none is left to chance.
SERVICE_ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as_postgres(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, check=False, user="postgres" if _as_root() else None
    )


class Postgres:
    name = "postgres"

    def __init__(self, config: StackConfig, procs: ProcessTable, creds: Credentials) -> None:
        self.config = config
        self.procs = procs
        self.creds = creds
        self.log = config.log_dir / "postgres.log"

    @property
    def port(self) -> int:
        return self.config.ports.postgres.value

    @property
    def home(self) -> Path:
        """The cluster's directory: in the state dir, unless `postgres` cannot reach it there."""
        preferred = self.config.state_dir / "postgres"
        if (
            not _as_root()
            or _run_as_postgres(["test", "-x", str(self.config.state_dir)]).returncode == 0
        ):
            return preferred
        # e.g. a checkout under /root (mode 700): keep the cluster where postgres may go.
        digest = hashlib.sha256(str(self.config.state_dir).encode()).hexdigest()[:12]
        return Path("/var/tmp/modelgate") / digest / "postgres"  # noqa: S108 (fixed, root-owned)

    def url(self, role: str = OWNER_ROLE, password: str | None = None) -> str:
        pw = password if password is not None else self.creds.database_password
        return f"postgresql://{role}:{pw}@127.0.0.1:{self.port}/{DATABASE}"

    def _role_password(self, service: str) -> str:
        if service == "audit":
            return self.creds.audit_database_password
        return self.creds.service_database_passwords[service]

    def service_url(self, service: str) -> str:
        """The URL of `service`'s own role."""
        return self.url(SERVICE_ROLES[service], self._role_password(service))

    def endpoints(self) -> dict[str, str]:
        """What `.local/stack.env` says about PostgreSQL. DATABASE_URL is the schema owner's
        (migrations, tools, tests that query directly); <SERVICE>_DATABASE_URL is the role each
        service runs as, handed to it as its DATABASE_URL."""
        return {
            "DATABASE_URL": self.url(),
            **{f"{s.upper()}_DATABASE_URL": self.service_url(s) for s in SERVICES},
            # Local stack only (the file is 0600): the tests that prove the audit log's triggers
            # hold even for a superuser's replication-mode session need one.
            "DATABASE_SUPERUSER_URL": self.url("postgres", self.creds.postgres_superuser_password),
        }

    def service_env(self, service: str) -> dict[str, str]:
        """The database part of one service's environment: its own role, nothing else."""
        return {"DATABASE_URL": self.service_url(service)}

    def migrate(self) -> None:
        """The migration step, as the owner: every schema brought up to date and each
        service's role granted what it needs (before any service starts)."""
        asyncio.run(migrate(self.url(), SERVICE_ROLES))

    def pending(self) -> str | None:
        return None if postgres_bindir() is not None else "install PostgreSQL with apt-get"

    def prepare(self) -> None:
        ensure_postgres()

    def _bindir(self) -> Path:
        bindir = postgres_bindir()
        if bindir is None:
            raise StackError("PostgreSQL server binaries are missing; run `make up` as root once")
        return bindir

    def _initdb(self, home: Path) -> None:
        data = home / "data"
        if (data / "PG_VERSION").exists():
            return
        home.mkdir(parents=True, exist_ok=True)
        if _as_root():
            shutil.chown(home, "postgres", "postgres")
            home.chmod(0o700)
        pwfile = home / "pwfile"
        pwfile.write_text(self.creds.postgres_superuser_password + "\n")
        if _as_root():
            shutil.chown(pwfile, "postgres", "postgres")
        try:
            result = _run_as_postgres(
                [
                    str(self._bindir() / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr.strip()[-800:]}")

    def ensure_running(self) -> bool:
        home = self.home
        if self.procs.alive(self.name):
            self._wait_ready()
            return False
        ensure_free(self.config.ports.postgres, "PostgreSQL")
        self._initdb(home)
        run = home / "run"
        run.mkdir(exist_ok=True)
        if _as_root():
            shutil.chown(run, "postgres", "postgres")
        argv = [
            str(self._bindir() / "postgres"),
            "-D",
            str(home / "data"),
            "-p",
            str(self.port),
            "-k",
            str(run),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
            # Local stack only: fsync=off survives any process crash (the OS keeps the
            # writes), not a machine crash. synchronous_commit stays on, so a kill -9 of
            # PostgreSQL never loses a commit a client was told about.
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
        ]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.procs.start(
            self.name,
            argv,
            log=self.log,
            marker=str(home / "data"),
            user="postgres" if _as_root() else None,
        )
        self._wait_ready()
        return True

    def _wait_ready(self) -> None:
        self.procs.wait_ready(self.name, self._accepting, what="PostgreSQL", log=self.log)
        asyncio.run(self._provision())

    def _accepting(self) -> bool:
        result = subprocess.run(
            [str(self._bindir() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return result.returncode == 0

    async def _provision(self) -> None:
        """Roles and the database, created or brought in line with the stored passwords."""
        conn = await asyncpg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            password=self.creds.postgres_superuser_password,
            database="postgres",
        )
        try:
            roles = [(OWNER_ROLE, self.creds.database_password, "LOGIN NOSUPERUSER CREATEDB")]
            roles += [
                (role, self._role_password(s), SERVICE_ROLE_ATTRIBUTES)
                for s, role in SERVICE_ROLES.items()
            ]
            for role, password, attributes in roles:
                exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
                verb = "ALTER" if exists else "CREATE"
                # Role names are our constants; passwords go through quote_literal.
                literal = await conn.fetchval("SELECT quote_literal($1)", password)
                await conn.execute(f"{verb} ROLE {role} {attributes} PASSWORD {literal}")
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
                await conn.execute(f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE}")
        finally:
            await conn.close()

    def stop(self) -> bool:
        # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
        return self.procs.stop(self.name, sig=signal.SIGINT, grace_s=30)

    def where(self) -> str:
        return f"postgresql://127.0.0.1:{self.port}/{DATABASE}"
