"""The four Modelgate services, each a process started from this checkout's virtualenv."""

from __future__ import annotations

import os
import sys

import httpx

from modelgate_stack.config import Port, StackConfig
from modelgate_stack.ports import ensure_free
from modelgate_stack.processes import ProcessTable

SERVICE_NAMES = ("registry", "ingest", "validator", "audit")


class ModelgateService:
    def __init__(
        self, name: str, config: StackConfig, procs: ProcessTable, env: dict[str, str]
    ) -> None:
        self.name = name
        self.config = config
        self.procs = procs
        self.env = env
        self.log = config.log_dir / f"{name}.log"

    @property
    def port(self) -> Port:
        port: Port = getattr(self.config.ports, self.name)
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port.value}"

    def pending(self) -> str | None:
        return None

    def prepare(self) -> None:
        """Nothing to fetch: `uv sync` already installed the service into the virtualenv."""

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def ensure_running(self) -> bool:
        if self.procs.alive(self.name):
            self._wait_ready()
            return False
        ensure_free(self.port, f"the {self.name} service")
        # A shell that sourced .local/stack.env holds every Kafka user's password: a service
        # inherits none but its own.
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("MODELGATE_KAFKA_") and k.endswith("_PASSWORD"))
        }
        env = {**inherited, **self.env, self.port.env: str(self.port.value)}
        argv = [sys.executable, "-m", f"modelgate_{self.name}"]
        self.procs.start(
            self.name,
            argv,
            log=self.log,
            env=env,
            marker=f"modelgate_{self.name}",
            cwd=self.config.root,
        )
        self._wait_ready()
        return True

    def _wait_ready(self) -> None:
        self.procs.wait_ready(
            self.name, self._healthy, what=f"the {self.name} service", log=self.log
        )

    def stop(self) -> bool:
        return self.procs.stop(self.name)

    def where(self) -> str:
        return self.url
