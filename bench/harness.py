"""What the benchmarks share: the running stack's endpoints, service processes, measurements."""

from __future__ import annotations

import atexit
import json
import os
import secrets
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil

from modelgate_shared.auth.demo_tokens import DEMO_USERS, new_tokens, token_file
from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.topics import Topics
from modelgate_stack.config import StackConfig
from modelgate_stack.envfile import read_env
from modelgate_stack.stack import Stack
from modelgate_testkit.infra import kafka_users
from modelgate_testkit.kafka import provision_topics
from modelgate_testkit.namespace import drop_bucket, drop_topics
from modelgate_testkit.review import AUTO_APPROVE_ALL, write_policy
from modelgate_testkit.services import ServiceProcess

ROOT = Path(__file__).resolve().parents[1]


def stack_env() -> dict[str, str]:
    """The infrastructure given by the environment (`set -a; . .local/stack.env`), else the
    local stack's endpoints, starting its infrastructure if it is not running."""
    if all(os.environ.get(k) for k in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")):
        return dict(os.environ)
    config = StackConfig(root=ROOT)
    Stack(config).up(services=False, log=False)
    return read_env(config.env_file)


@dataclass
class BenchNamespace:
    """Own topics, bucket and tokens, so a benchmark never mixes with the demo stack."""

    env: dict[str, str]
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clear = new_tokens()
        self.tokens = {role: clear[var] for var, (_, role) in DEMO_USERS.items()}
        path = ROOT / ".local" / f"bench-tokens-{self.run_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(token_file(clear)))
        path.chmod(0o600)
        # The services read the file at start; it is of no use once the benchmark ends.
        atexit.register(path.unlink, missing_ok=True)
        # The pipeline is measured up to registration, without a human in the loop.
        policy = ROOT / ".local" / f"bench-review-policy-{self.run_id}.yaml"
        write_policy(policy, AUTO_APPROVE_ALL)
        atexit.register(policy.unlink, missing_ok=True)
        self.env = {
            # The stack's endpoints file names its trace backend; a benchmark measures the
            # services untraced unless its env says otherwise (bench.tracing_overhead does).
            "OTEL_SDK_DISABLED": "true",
            **self.env,
            "MODELGATE_TOPIC_PREFIX": f"b{self.run_id}.",
            "MODELGATE_S3_BUCKET": f"mg-bench-{self.run_id}",
            "MODELGATE_TOKENS_FILE": str(path),
            "MODELGATE_LOG_LEVEL": "WARNING",
            "MODELGATE_REVIEW_POLICY": str(policy),
        }

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def kafka(self) -> KafkaAccess:
        """Kafka as the stack's admin (provisioning, raw producers)."""
        return kafka_users(self.env)[0]

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.env["MODELGATE_TOPIC_PREFIX"])

    def service_env(self, name: str) -> dict[str, str]:
        """The run's env as one service gets it: its own Kafka user, no other's password."""
        common = {
            k: v
            for k, v in self.env.items()
            if not (k.startswith("MODELGATE_KAFKA_") and k.endswith("_PASSWORD"))
        }
        own = (kafka_users(self.env)[1] or {}).get(name)
        if own is None or own.username is None or own.password is None:
            return common
        return {**common, "KAFKA_SASL_USERNAME": own.username, "KAFKA_SASL_PASSWORD": own.password}

    async def provision(self) -> None:
        """The run's topics, and the services' ACLs on them (no service may create topics)."""
        await provision_topics(self.kafka, self.topics)

    async def drop(self) -> None:
        """Delete the run's bucket, topics and ACLs, which a development machine's stack keeps."""
        await drop_bucket(self.env, self.env["MODELGATE_S3_BUCKET"])
        await drop_bucket(self.env, f"{self.env['MODELGATE_S3_BUCKET']}-pinned")
        await drop_topics(self.kafka, self.env["MODELGATE_TOPIC_PREFIX"])


@dataclass
class Service(ServiceProcess):
    """A benchmark's service, started as the tests start theirs, but ready only once its
    dependencies answer (`/readyz`); its log is `.local/bench/<name>.log`."""

    log_dir: Path = ROOT / ".local" / "bench"
    probe: str = "/readyz"

    def peak_rss_mib(self) -> float:
        assert self.proc is not None
        return peak_rss_mib(self.proc.pid)


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had (psutil reports only the
    current resident size, so this one line of /proc/<pid>/status is read here)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live descendants (PostgreSQL's backends are children of
    the postmaster); 0 for a process that is gone."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for member in tree:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue  # exited while we looked
        total += times.user + times.system
    return total


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def run_info() -> dict[str, Any]:
    """When, on what code and how busy a machine a benchmark ran: every --json result carries
    it, and `bench/report.py` prints it beside the figures."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", ""
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit + ("+changes" if dirty else ""),
        "cores": os.cpu_count() or 1,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def database_url(url: str, name: str) -> str:
    """`url` with its database replaced by `name`."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def create_databases(admin_url: str, *names: str) -> None:
    """Throwaway databases of one run (drop_databases removes them)."""
    conn = await asyncpg.connect(admin_url)
    try:
        for name in names:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_databases(admin_url: str, *names: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def infra_pids() -> dict[str, int]:
    """The local stack's Kafka, PostgreSQL and MinIO processes (none when the infrastructure
    is not the local stack's)."""
    procs = Stack(StackConfig(root=ROOT)).procs
    found = {name: procs.alive(name) for name in ("kafka", "postgres", "minio")}
    return {name: managed.pid for name, managed in found.items() if managed is not None}


def percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        value = samples[0] if samples else float("nan")
        return {"p50": value, "p95": value, "p99": value}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


# Two-sided 95% quantiles of Student's t for 1 to 30 degrees of freedom (the standard
# library has none, and a dependency for 30 numbers is not worth it). Above 30 the last one
# is used: under 5% wider than the exact value, never narrower, as the normal's would be.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(frozen=True)
class Interval:
    """A mean with its 95% confidence interval (Student's t: paired rounds of a few runs)."""

    mean: float
    low: float
    high: float


def mean_interval(samples: list[float]) -> Interval:
    """The mean of `samples` and its 95% interval; with one sample, no interval (nan)."""
    mean = statistics.fmean(samples)
    if len(samples) < 2:
        return Interval(mean, float("nan"), float("nan"))
    df = len(samples) - 1
    t = _T975[min(df, len(_T975)) - 1]
    half = t * statistics.stdev(samples) / len(samples) ** 0.5
    return Interval(mean, mean - half, mean + half)


def make_file(path: Path, size: int) -> Path:
    """Random bytes, written once and reused across runs of the same size."""
    if path.exists() and path.stat().st_size == size:
        return path
    chunk = os.urandom(16 * 1024 * 1024)
    with path.open("wb") as out:
        written = 0
        while written < size:
            part = chunk[: min(len(chunk), size - written)]
            out.write(part)
            written += len(part)
    return path
