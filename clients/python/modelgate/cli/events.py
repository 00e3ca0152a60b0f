"""`events tail`: the registry's events, one line each, as they happen."""

from __future__ import annotations

import asyncio
import contextlib
import json

import click

from modelgate.cli.context import json_option, state
from modelgate.cli.output import out
from modelgate.events import REGISTRY_TOPICS, tail


@click.group()
def events() -> None:
    """The registry's Kafka events (needs: pip install "modelgate[events]")."""


@events.command(
    "tail",
    epilog="""\b
Examples:
  modelgate events tail                                  # model.registered, from now on
  modelgate events tail --topic model.transitioned --topic model.archived
  modelgate events tail --from-beginning --count 10 --json
Kafka settings: KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,
KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CAFILE.
""",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    type=click.Choice(REGISTRY_TOPICS),
    default=["model.registered"],
    show_default=True,
    help="Repeatable.",
)
@click.option(
    "--topic-prefix",
    envvar="MODELGATE_TOPIC_PREFIX",
    default="",
    help="Prefix of a deployment's topic names.",
)
@click.option("--group", help="Consumer group (default: a new one of this command's own).")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest retained event.")
@click.option("--count", type=int, help="Stop after this many events.")
@json_option
def events_tail(
    topics: tuple[str, ...],
    topic_prefix: str,
    group: str | None,
    from_beginning: bool,
    count: int | None,
) -> None:
    """Print one line per event (with --json, one CloudEvent per line) until interrupted."""
    as_json = state().json

    async def follow() -> None:
        seen = 0
        stream = tail(list(topics), prefix=topic_prefix, group=group, from_beginning=from_beginning)
        async for event in stream:
            if as_json:
                print(json.dumps({"topic": event.topic, **event.cloudevent}), flush=True)
            else:
                out.print(event.line(), highlight=False, soft_wrap=True)
            seen += 1
            if count is not None and seen >= count:
                await stream.aclose()
                return

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a tail ends
        asyncio.run(follow())
