"""A producer that submits a model straight to Kafka, as a CI job would: upload the files to
S3, then publish a signed `model.submitted`.

It needs only aiokafka, aioboto3 and cryptography, and builds the CloudEvent as plain JSON, so
it shows the whole wire contract (docs/event-signatures.md, docs/asyncapi.json):

- the record value is the structured-mode CloudEvent, and `submitter` is this producer's
  subject: the name its key is registered under in the trusted-keys file;
- the headers carry `mg-signature`, the base64 Ed25519 signature of
  `b"modelgate-event-signature-v1\\x00" + value`, and `mg-key-id`, the key's id.

Against the local stack (`make up`), as the demo producer `ci-bot`:

    set -a; . .local/stack.env; set +a
    uv run python examples/publish_submission.py --name my-model --version 1.0.0 model.safetensors

Your own producer: `uv run python -m modelgate_shared.signing keygen --subject ci-bot --out
ci-bot.pem` prints the entry an operator adds to the trusted-keys file; then run this with
MODELGATE_PRODUCER_KEY=ci-bot.pem MODELGATE_PRODUCER_SUBJECT=ci-bot.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import ssl
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aioboto3
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SUBMITTED_TYPE = "io.modelgate.model.submitted.v1"
SIGNED_PREFIX = b"modelgate-event-signature-v1\x00"


def load_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SystemExit(f"{path} is not an Ed25519 private key")
    return key


def key_id(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signature_headers(key: Ed25519PrivateKey, value: bytes) -> list[tuple[str, bytes]]:
    signature = base64.b64encode(key.sign(SIGNED_PREFIX + value))
    return [("mg-signature", signature), ("mg-key-id", key_id(key).encode())]


async def upload(bucket: str, prefix: str, files: list[Path]) -> list[dict[str, Any]]:
    """Put each file under s3://bucket/prefix/ and describe it as the event's artifact files."""
    described = []
    session = aioboto3.Session()
    async with session.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT_URL"],
        aws_access_key_id=os.environ["S3_ACCESS_KEY"],
        aws_secret_access_key=os.environ["S3_SECRET_KEY"],
        region_name=os.environ.get("S3_REGION", "us-east-1"),
    ) as s3:
        for path in files:
            data = path.read_bytes()  # an example: a real job would stream large files
            key = f"{prefix}/{path.name}"
            await s3.put_object(Bucket=bucket, Key=key, Body=data)
            described.append(
                {
                    "path": path.name,
                    "uri": f"s3://{bucket}/{key}",
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                }
            )
    return described


def cloud_event(args: argparse.Namespace, subject: str, files: list[dict[str, Any]]) -> bytes:
    submission_id = str(uuid.uuid4())
    root = files[0]["uri"].rsplit("/", 1)[0] + "/"
    data = {
        "submission_id": submission_id,
        "name": args.name,
        "version": args.version,
        "submitter": subject,  # must be the signing key's registered name
        "artifact": {"uri": root, "format": args.format, "files": files},
        "model_card": {
            "description": args.description,
            "owner_team": args.owner_team,
            "license": args.license,
            "intended_use": args.intended_use,
        },
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    event = {
        "specversion": "1.0",
        # The idempotency key: a retry must resend these very bytes (same id), never a new event.
        "id": str(uuid.uuid4()),
        "source": f"urn:producer:{subject}",
        "type": SUBMITTED_TYPE,
        "subject": f"{args.name}/{args.version}",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "dataschema": f"https://modelgate.dev/schemas/events/{SUBMITTED_TYPE}.schema.json",
        "data": data,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def kafka_options() -> dict[str, Any]:
    """The broker and how to authenticate, from the variables the services read too
    (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME / _PASSWORD,
    KAFKA_SSL_CAFILE). Without KAFKA_SASL_USERNAME: the local stack's `submitter` principal
    from .local/stack.env, which may write model.submitted and nothing else."""
    env = os.environ
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    options: dict[str, Any] = {
        "bootstrap_servers": env["KAFKA_BOOTSTRAP_SERVERS"],
        "security_protocol": protocol,
    }
    if protocol.startswith("SASL_"):
        options["sasl_mechanism"] = env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        options["sasl_plain_username"] = (
            env.get("KAFKA_SASL_USERNAME") or env["MODELGATE_KAFKA_SUBMITTER_USERNAME"]
        )
        options["sasl_plain_password"] = (
            env.get("KAFKA_SASL_PASSWORD") or env["MODELGATE_KAFKA_SUBMITTER_PASSWORD"]
        )
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl.create_default_context(cafile=env.get("KAFKA_SSL_CAFILE"))
    return options


async def main(args: argparse.Namespace) -> int:
    key = load_key(Path(os.environ["MODELGATE_PRODUCER_KEY"]))
    subject = os.environ["MODELGATE_PRODUCER_SUBJECT"]
    bucket = os.environ.get("MODELGATE_S3_BUCKET", "modelgate")
    files = await upload(bucket, f"incoming/{subject}/{uuid.uuid4()}", args.files)
    value = cloud_event(args, subject, files)
    headers = [("content-type", b"application/cloudevents+json"), *signature_headers(key, value)]
    topic = f"{os.environ.get('MODELGATE_TOPIC_PREFIX', '')}model.submitted"
    producer = AIOKafkaProducer(**kafka_options(), enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=args.name.encode(), headers=headers)
    finally:
        await producer.stop()
    print(json.dumps({"submission_id": json.loads(value)["data"]["submission_id"]}))
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--format", default="safetensors")
    parser.add_argument("--description", default="Submitted by a CI job.")
    parser.add_argument("--owner-team", default="ml-platform")
    parser.add_argument("--license", default="apache-2.0")
    parser.add_argument("--intended-use", default="examples")
    parser.add_argument("files", nargs="+", type=Path)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
