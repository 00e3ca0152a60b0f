"""Apache Kafka, single node in KRaft mode, from the jars on Maven Central, run with `java`."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from modelgate_shared.kafka.admin import ensure_topics
from modelgate_shared.topics import Topics
from modelgate_stack.config import KAFKA_VERSION, StackConfig
from modelgate_stack.errors import StackError
from modelgate_stack.ports import ensure_free, in_use
from modelgate_stack.prereqs import require_java, require_maven
from modelgate_stack.processes import ProcessTable


def _resource(name: str) -> str:
    return resources.files("modelgate_stack.resources").joinpath(name).read_text()


class Kafka:
    name = "kafka"

    def __init__(self, config: StackConfig, procs: ProcessTable) -> None:
        self.config = config
        self.procs = procs
        self.libs = config.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"
        self.home = config.state_dir / "kafka"
        self.log = config.log_dir / "kafka.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.config.ports.kafka.value}"

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
        )
        path = self.home / "server.properties"
        path.write_text(text)
        return path

    def _format(self, props: Path) -> None:
        if (self.home / "kraft-logs" / "meta.properties").exists():
            return
        cluster_id = subprocess.run(
            self._java("kafka.tools.StorageTool", "random-uuid"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        result = subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "--cluster-id",
                cluster_id,
                "--config",
                str(props),
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka's log directory failed: {result.stderr[-800:]}")

    def ensure_running(self) -> bool:
        if self.procs.alive(self.name):
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
        # Creating the gate's topics also proves the broker answers requests.
        asyncio.run(
            ensure_topics(self.bootstrap, Topics(), partitions=self.config.topic_partitions)
        )

    def stop(self) -> bool:
        return self.procs.stop(self.name, grace_s=30)

    def where(self) -> str:
        return f"kafka://{self.bootstrap}"
