"""MinIO, built with `go install` at a pinned version, web console off."""

from __future__ import annotations

import os

import httpx

from modelgate_shared.s3_policies import S3_SERVICES, user_name
from modelgate_stack.config import MINIO_VERSION, StackConfig
from modelgate_stack.credentials import Credentials
from modelgate_stack.minio_users import STACK_BUCKET, ensure_buckets, provision_users
from modelgate_stack.ports import ensure_free
from modelgate_stack.prereqs import go_install
from modelgate_stack.processes import ProcessTable


class MinIO:
    name = "minio"

    def __init__(self, config: StackConfig, procs: ProcessTable, creds: Credentials) -> None:
        self.config = config
        self.procs = procs
        self.creds = creds
        self.binary = config.cache_dir / f"minio-{MINIO_VERSION}" / "minio"
        self.data = config.state_dir / "minio"
        self.log = config.log_dir / "minio.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.config.ports.minio.value}"

    def pending(self) -> str | None:
        return None if self.binary.exists() else f"build MinIO {MINIO_VERSION} with go install"

    def prepare(self) -> None:
        if not self.binary.exists():
            go_install("github.com/minio/minio", MINIO_VERSION, self.binary)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.endpoint}/minio/health/live", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def ensure_running(self) -> bool:
        if self.procs.alive(self.name):
            self._wait_ready()
            return False
        ensure_free(self.config.ports.minio, "MinIO")
        self.data.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.data),
            "MINIO_ROOT_USER": self.creds.minio_user,
            "MINIO_ROOT_PASSWORD": self.creds.minio_password,
            "MINIO_BROWSER": "off",  # no console: it would listen on a random public port
            "MINIO_UPDATE": "off",
        }
        argv = [
            str(self.binary),
            "server",
            str(self.data),
            "--address",
            f"127.0.0.1:{self.config.ports.minio.value}",
            "--quiet",
        ]
        self.procs.start(self.name, argv, log=self.log, env=env, marker=str(self.data))
        self._wait_ready()
        return True

    def _wait_ready(self) -> None:
        self.procs.wait_ready(self.name, self._healthy, what="MinIO", log=self.log)

    def provision(self) -> None:
        """The buckets (the pinned one with Object Lock) and each service's user and policy,
        as root: the services may create no bucket and run as their own users."""
        root = (self.endpoint, self.creds.minio_user, self.creds.minio_password)
        ensure_buckets(*root, STACK_BUCKET)
        provision_users(*root, self.creds.minio_service_passwords)

    def service_env(self, service: str) -> dict[str, str]:
        """`service`'s own S3 credentials (S3_ACCESS_KEY / S3_SECRET_KEY as it reads them)."""
        return {
            "S3_ACCESS_KEY": user_name(service),
            "S3_SECRET_KEY": self.creds.minio_service_passwords[service],
        }

    def users_env(self) -> dict[str, str]:
        """For `.local/stack.env`: <SERVICE>_S3_ACCESS_KEY / _SECRET_KEY of every service."""
        values: dict[str, str] = {}
        for service in S3_SERVICES:
            own = self.service_env(service)
            values[f"{service.upper()}_S3_ACCESS_KEY"] = own["S3_ACCESS_KEY"]
            values[f"{service.upper()}_S3_SECRET_KEY"] = own["S3_SECRET_KEY"]
        return values

    def stop(self) -> bool:
        return self.procs.stop(self.name)

    def where(self) -> str:
        return self.endpoint
