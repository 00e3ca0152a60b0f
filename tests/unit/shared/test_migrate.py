"""The migration step's command line: which role each service is granted to, and refusals."""

from __future__ import annotations

import pytest

from modelgate_shared.db.access import role_of
from modelgate_shared.db.migrate import main, role_for


def test_the_role_comes_from_the_role_variable_then_the_service_url_then_the_default() -> None:
    url = "postgresql://reg_app:pw@db:5432/modelgate"
    assert (
        role_for("registry", {"REGISTRY_DATABASE_ROLE": "reg_role", "REGISTRY_DATABASE_URL": url})
        == "reg_role"
    )
    assert role_for("registry", {"REGISTRY_DATABASE_URL": url}) == "reg_app"
    assert role_for("registry", {}) == "modelgate_registry"
    assert role_for("audit", {"INGEST_DATABASE_URL": url}) == "modelgate_audit"


def test_a_role_in_a_url_is_read_percent_decoded() -> None:
    assert role_of("postgresql://odd%40name:pw@db/modelgate") == "odd@name"
    assert role_of("postgresql://db/modelgate") is None


def test_without_an_owner_url_nothing_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry"], env={}) == 2
    assert "DATABASE_OWNER_URL" in capsys.readouterr().err


def test_an_unknown_service_is_refused() -> None:
    with pytest.raises(SystemExit) as refused:
        main(["billing"], env={"DATABASE_OWNER_URL": "postgresql://o@db/modelgate"})
    assert refused.value.code == 2
