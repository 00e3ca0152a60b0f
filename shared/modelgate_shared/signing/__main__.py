"""`python -m modelgate_shared.signing`: keys for signed events.

keygen --subject ci-bot --out ci-bot.pem [--register trusted-keys.json]
    A producer key (kept if the file exists); prints the trusted-keys entry that lets it
    publish model.submitted as `ci-bot`, or adds it to the file with --register.
provision --trusted-keys FILE --service ingest=PATH ... [--producer ci-bot=PATH ...]
    Keys of a whole stack and its trusted-keys file (what the compose file runs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from modelgate_shared.signing.grants import producer_entry
from modelgate_shared.signing.keys import load_or_generate
from modelgate_shared.signing.provision import provision, register


def _pairs(values: list[str]) -> dict[str, Path]:
    pairs = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"expected NAME=PATH, got {value!r}")
        pairs[name] = Path(path)
    return pairs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelgate_shared.signing")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="a producer key and its trusted-keys entry")
    keygen.add_argument("--subject", required=True, help="the producer's name (its submitter)")
    keygen.add_argument("--out", required=True, type=Path, help="private key file (0600)")
    keygen.add_argument("--register", type=Path, help="add the entry to this trusted-keys file")
    stack = commands.add_parser("provision", help="keys and trusted-keys file of a stack")
    stack.add_argument("--trusted-keys", required=True, type=Path)
    stack.add_argument("--service", action="append", default=[], metavar="NAME=PATH")
    stack.add_argument("--producer", action="append", default=[], metavar="SUBJECT=PATH")
    args = parser.parse_args(argv)

    if args.command == "keygen":
        entry = producer_entry(args.subject, load_or_generate(args.out).public_key())
        if args.register is not None:
            register(args.register, [entry])
            print(f"registered key {entry.key_id} of {entry.name} in {args.register}")
        else:
            print(entry.model_dump_json(indent=2, exclude_none=True))
        return 0
    provision(args.trusted_keys, _pairs(args.service), _pairs(args.producer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
