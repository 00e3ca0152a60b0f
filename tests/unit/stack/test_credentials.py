"""The stack's generated secrets: each service's database role has a password of its own."""

from __future__ import annotations

import json
import stat
from dataclasses import asdict
from pathlib import Path

from modelgate_stack.credentials import DATABASE_SERVICES, Credentials


def test_each_service_role_gets_its_own_password_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    creds = Credentials.load_or_create(path)
    passwords = [creds.service_database_passwords[s] for s in DATABASE_SERVICES]
    passwords += [creds.audit_database_password, creds.database_password]
    assert len(set(passwords)) == len(passwords)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Credentials.load_or_create(path) == creds


def test_a_file_from_before_the_service_roles_gains_their_passwords(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    older = asdict(Credentials.load_or_create(path))
    del older["service_database_passwords"]
    path.write_text(json.dumps(older))
    creds = Credentials.load_or_create(path)
    assert set(creds.service_database_passwords) == set(DATABASE_SERVICES)
    assert creds.database_password == older["database_password"]
    assert Credentials.load_or_create(path) == creds, "written back, not made up anew each time"
