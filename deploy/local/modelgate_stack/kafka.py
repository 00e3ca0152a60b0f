"""Apache Kafka, single node in KRaft mode, from the jars on Maven Central, run with `java`."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from modelgate_shared.kafka.acls import PRINCIPALS, PrincipalAcls, acl_table
from modelgate_shared.kafka.admin import ensure_topics
from modelgate_shared.kafka.security import KafkaAccess
from modelgate_shared.topics import Topics
from modelgate_stack.config import KAFKA_VERSION, StackConfig
from modelgate_stack.credentials import KAFKA_ADMIN, KAFKA_CONTROLLER, Credentials
from modelgate_stack.errors import StackError
from modelgate_stack.kafka_provisioning import grant, prune, upsert_scram_users
from modelgate_stack.ports import ensure_free, in_use
from modelgate_stack.prereqs import require_java, require_maven
from modelgate_stack.private_files import write_private
from modelgate_stack.processes import ProcessTable


def _resource(name: str) -> str:
    return resources.files("modelgate_stack.resources").joinpath(name).read_text()


def _gate_names(table: dict[str, PrincipalAcls]) -> set[str]:
    """The stack's own topics and groups (unprefixed): where `up` removes rights the table
    no longer gives."""
    names = set(Topics().all_topics())
    for acls in table.values():
        names.update(acls.groups)
    return names


class Kafka:
    name = "kafka"

    def __init__(self, config: StackConfig, procs: ProcessTable, creds: Credentials) -> None:
        self.config = config
        self.procs = procs
        self.creds = creds
        self.libs = config.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"
        self.home = config.state_dir / "kafka"
        self.log = config.log_dir / "kafka.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.config.ports.kafka.value}"

    def access(self, user: str) -> KafkaAccess:
        """The client listener as one of the stack's users (admin, a service, submitter)."""
        return KafkaAccess(
            bootstrap_servers=self.bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            username=user,
            password=self.creds.kafka_passwords[user],
        )

    def pending(self) -> str | None:
        done = (self.libs / ".complete").exists()
        return None if done else f"download Kafka {KAFKA_VERSION}'s jars with Maven"

    def prepare(self) -> None:
        require_java()
        if (self.libs / ".complete").exists():
            return
        require_maven()
        self.libs.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.libs.parent) as tmp:
            pom = Path(tmp) / "pom.xml"
            pom.write_text(_resource("kafka-pom.xml"))
            out = Path(tmp) / "libs"
            result = subprocess.run(
                [
                    "mvn",
                    "-B",
                    "-q",
                    "-f",
                    str(pom),
                    "dependency:copy-dependencies",
                    "-DincludeScope=runtime",
                    f"-Dkafka.version={KAFKA_VERSION}",
                    f"-DoutputDirectory={out}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise StackError(
                    f"Maven could not fetch Kafka {KAFKA_VERSION}: "
                    f"{(result.stdout + result.stderr).strip()[-800:]}"
                )
            (out / ".complete").write_text(KAFKA_VERSION)
            shutil.rmtree(self.libs, ignore_errors=True)
            out.rename(self.libs)

    def _java(self, *args: str) -> list[str]:
        log4j = self.home / "log4j2.properties"
        return [
            "java",
            f"-Xms{self.config.kafka_heap}",
            f"-Xmx{self.config.kafka_heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{self.libs}/*",
            *args,
        ]

    def _render_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j2.properties").write_text(_resource("kafka-log4j2.properties"))
        ports = self.config.ports
        text = (
            _resource("kafka-server.properties.tmpl")
            .replace("@PORT@", str(ports.kafka.value))
            .replace("@CPORT@", str(ports.kafka_controller.value))
            .replace("@DATA@", str(self.home))
            .replace("@PARTITIONS@", str(self.config.topic_partitions))
            .replace("@ADMIN_PASSWORD@", self.creds.kafka_passwords[KAFKA_ADMIN])
            .replace("@CONTROLLER_PASSWORD@", self.creds.kafka_passwords[KAFKA_CONTROLLER])
        )
        path = self.home / "server.properties"
        write_private(path, text)
        return path

    @property
    def _scram_marker(self) -> Path:
        """The hash of the admin password this broker was formatted with."""
        return self.home / "admin-scram.applied"

    def _admin_hash(self) -> str:
        return hashlib.sha256(self.creds.kafka_passwords[KAFKA_ADMIN].encode()).hexdigest()

    def _format(self, props: Path) -> None:
        if (self.home / "kraft-logs" / "meta.properties").exists():
            self._check_admin()
            return
        cluster_id = subprocess.run(
            self._java("kafka.tools.StorageTool", "random-uuid"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # SCRAM users live in the cluster metadata, so the first one (the admin, who adds the
        # rest) must be there at format time: the controller quorum refuses to alter them.
        # StorageTool takes the passwords only as arguments, so the whole command goes into a
        # 0600 argument file that the java launcher expands: `ps` shows `@file`, never them.
        users = (KAFKA_ADMIN, *PRINCIPALS)
        scram = [
            f"SCRAM-SHA-512=[name={u},iterations=8192,password={self.creds.kafka_passwords[u]}]"
            for u in users
        ]
        args = self.home / "format.args"
        command = [
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--cluster-id",
            cluster_id,
            "--config",
            str(props),
            *(part for entry in scram for part in ("--add-scram", entry)),
        ]
        write_private(args, "\n".join(command) + "\n")
        try:
            result = subprocess.run(
                self._java(f"@{args}"), capture_output=True, text=True, check=False
            )
        finally:
            args.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(f"formatting Kafka's log directory failed: {self._scrub(result)}")
        self._scram_marker.write_text(self._admin_hash())

    def _check_admin(self) -> None:
        """A log directory formatted before Kafka had users (or with another admin password)
        has no way in for our admin: say how to start it afresh."""
        marker = self._scram_marker
        if marker.exists() and marker.read_text().strip() == self._admin_hash():
            return
        raise StackError(
            f"Kafka's log directory ({self.home / 'kraft-logs'}) was formatted without the "
            "stack's SCRAM admin user (before Kafka required authentication, or with other "
            "credentials). Run `make clean-state` (drops the local stack's data), or stop the "
            f"stack and delete {self.home} to re-format Kafka alone, then `make up` again."
        )

    def _scrub(self, result: subprocess.CompletedProcess[str]) -> str:
        """A tool's output, last lines, with every password of the stack masked."""
        said = (result.stdout + result.stderr).strip()[-800:]
        for secret in self.creds.kafka_passwords.values():
            said = said.replace(secret, "***")
        return said

    def ensure_running(self) -> bool:
        if self.procs.alive(self.name):
            # A broker started before Kafka had users still runs without them: say so now,
            # not after a minute of refused connections.
            self._check_admin()
            self._wait_ready()
            return False
        ensure_free(self.config.ports.kafka, "Kafka")
        ensure_free(self.config.ports.kafka_controller, "the Kafka controller")
        props = self._render_config()
        self._format(props)
        self.procs.start(
            self.name, self._java("kafka.Kafka", str(props)), log=self.log, marker=str(props)
        )
        self._wait_ready()
        return True

    def _wait_ready(self) -> None:
        self.procs.wait_ready(
            self.name,
            lambda: in_use(self.config.ports.kafka.value),
            what="Kafka",
            log=self.log,
            timeout_s=90,
        )
        admin = self.access(KAFKA_ADMIN)
        # Creating the gate's topics also proves the broker answers requests.
        asyncio.run(ensure_topics(admin, Topics(), partitions=self.config.topic_partitions))
        # Idempotent: a password rotated in the state dir, or a principal or ACL added to the
        # table since this broker was formatted, is in place after every `up`.
        upsert_scram_users(admin, {p: self.creds.kafka_passwords[p] for p in PRINCIPALS})
        table = acl_table(Topics())
        grant(admin, table)
        prune(admin, table, _gate_names(table))

    def stop(self) -> bool:
        return self.procs.stop(self.name, grace_s=30)

    def where(self) -> str:
        return f"kafka://{self.bootstrap}"
