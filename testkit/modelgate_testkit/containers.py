"""The infrastructure as testcontainers, at the versions the local stack runs.

Used only where a Docker engine answers (`infra.py`). The images come from the
stack's own version constants (`modelgate_stack.config`), never from the library's defaults
(Confluent's Kafka 3.6, a MinIO of 2022): Apache Kafka's image of `KAFKA_VERSION`, and MinIO
built from source at `MINIO_VERSION`, as `make up` builds it.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelgate_stack.config import (
    KAFKA_IMAGE,
    MINIO_BUILD_IMAGE,
    MINIO_VERSION,
    POSTGRES_IMAGE,
)

HERE = Path(__file__).resolve().parent
MINIO_IMAGE_TAG = f"modelgate-test-minio:{MINIO_VERSION.rsplit('-', 1)[-1]}"
"""The built image, tagged by MinIO's commit: built once per Docker host, then reused."""
KAFKA_START_SCRIPT = "/testcontainers-start.sh"
KAFKA_PORT = 9092
"""Clients, advertised as the container's mapped port (known only once it runs)."""


def _class(module: str, name: str) -> Any:
    for path in (f"testcontainers.community.{module}", f"testcontainers.{module}"):
        with contextlib.suppress(ImportError):
            return getattr(importlib.import_module(path), name)
    raise ImportError(name)


def kafka_start_script(host: str, port: int) -> str:
    """Run Apache Kafka's own entrypoint with the client listener advertised at `host:port`.
    The broker-to-broker and controller listeners stay inside the container; there is no
    authentication (the ACL tests skip on such a broker)."""
    return (
        "#!/bin/bash\n"
        f"export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://{host}:{port},BROKER://localhost:9093\n"
        "exec /etc/kafka/docker/run\n"
    )


def _put_file(container: Any, path: str, text: str) -> None:
    data = text.encode()
    with io.BytesIO() as archive:
        with tarfile.TarFile(fileobj=archive, mode="w") as tar:
            info = tarfile.TarInfo(name=path)
            info.size = len(data)
            info.mode = 0o755
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
        container.get_wrapped_container().put_archive("/", archive.getvalue())


@contextlib.contextmanager
def kafka() -> Iterator[str]:
    """A single-node KRaft Kafka of the stack's version; yields its bootstrap address."""
    container = _class("core.container", "DockerContainer")(KAFKA_IMAGE)
    settings = {
        "CLUSTER_ID": "5L6g3nShT-eMCtK--X86sw",
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": f"PLAINTEXT://:{KAFKA_PORT},BROKER://:9093,CONTROLLER://:9094",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
            "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT"
        ),
        "KAFKA_INTER_BROKER_LISTENER_NAME": "BROKER",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9094",
        # As the local stack's server.properties has them (deploy/local/…/resources).
        "KAFKA_NUM_PARTITIONS": "3",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "3",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_MESSAGE_MAX_BYTES": "2097152",
    }
    for key, value in settings.items():
        container.with_env(key, value)
    container.with_exposed_ports(KAFKA_PORT)
    # The advertised port is the mapped one, known after the start: the container waits for
    # the script that says it, then runs Kafka's own entrypoint.
    script = KAFKA_START_SCRIPT
    container.with_command(f'sh -c "while [ ! -f {script} ]; do sleep 0.1; done; {script}"')
    with container:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(KAFKA_PORT))
        _put_file(container, script, kafka_start_script(host, port))
        waiting = _class("core.wait_strategies", "LogMessageWaitStrategy")(
            re.compile(r".*Kafka Server started.*")
        )
        waiting.with_startup_timeout(120)
        waiting.wait_until_ready(container)
        yield f"{host}:{port}"


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """PostgreSQL; yields its superuser's URL."""
    with _class("postgres", "PostgresContainer")(POSTGRES_IMAGE, driver=None) as pg:
        yield str(pg.get_connection_url())


def minio_image() -> str:
    """MinIO at the stack's version, built (once per Docker host) from this package's
    minio.Dockerfile; returns the image's tag."""
    docker = importlib.import_module("docker")
    client = docker.from_env()
    try:
        client.images.get(MINIO_IMAGE_TAG)
    except docker.errors.ImageNotFound:
        client.images.build(
            path=str(HERE),
            dockerfile="minio.Dockerfile",
            tag=MINIO_IMAGE_TAG,
            buildargs={"BUILD_IMAGE": MINIO_BUILD_IMAGE, "MINIO_VERSION": MINIO_VERSION},
            rm=True,
        )
    return MINIO_IMAGE_TAG


@contextlib.contextmanager
def minio() -> Iterator[dict[str, str]]:
    """MinIO of the stack's version; yields testcontainers' config (endpoint, keys)."""
    container = _class("minio", "MinioContainer")(minio_image())
    # Today's MinIO reads only the root user variables (testcontainers sets the old names).
    container.with_env("MINIO_ROOT_USER", container.access_key)
    container.with_env("MINIO_ROOT_PASSWORD", container.secret_key)
    with container:
        yield dict(container.get_config())
