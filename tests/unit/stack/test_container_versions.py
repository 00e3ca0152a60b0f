"""Containers run the versions the local stack pins (modelgate_stack.config), not others."""

from __future__ import annotations

from pathlib import Path

import yaml

from modelgate_stack.config import KAFKA_IMAGE, KAFKA_VERSION, MINIO_VERSION, POSTGRES_IMAGE
from modelgate_testkit.containers import MINIO_IMAGE_TAG, kafka_start_script

ROOT = Path(__file__).resolve().parents[3]


def test_compose_runs_the_kafka_and_postgresql_images_of_the_stack() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert f"apache/kafka:{KAFKA_VERSION}" == KAFKA_IMAGE
    assert services["kafka"]["image"] == KAFKA_IMAGE
    assert services["postgres"]["image"] == POSTGRES_IMAGE


def test_the_tests_minio_image_is_built_at_the_pinned_commit() -> None:
    dockerfile = (ROOT / "testkit" / "modelgate_testkit" / "minio.Dockerfile").read_text()
    assert '"github.com/minio/minio@${MINIO_VERSION}"' in dockerfile
    assert MINIO_IMAGE_TAG.endswith(MINIO_VERSION.rsplit("-", 1)[-1])


def test_the_kafka_container_advertises_its_mapped_port_and_runs_kafkas_entrypoint() -> None:
    script = kafka_start_script("127.0.0.1", 32771)
    assert "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:32771," in script
    assert script.rstrip().endswith("exec /etc/kafka/docker/run")
