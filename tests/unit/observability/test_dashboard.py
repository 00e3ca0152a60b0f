"""The Grafana dashboard parses, queries only metrics the services expose, and links to
traces; the data sources it names are the ones provisioned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

# The composition roots: importing them defines every metric the services expose.
import modelgate_ingest.main
import modelgate_registry.main
import modelgate_validator.main
from tests.support.metrics import (
    dashboard_metrics,
    names_in_query,
    panels,
    prometheus_queries,
    sample_names,
)

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "deploy" / "observability" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
SERVICES = (modelgate_ingest.main, modelgate_validator.main, modelgate_registry.main)


@pytest.fixture(scope="module")
def exposed() -> set[str]:
    assert all(s.build_app for s in SERVICES)
    return sample_names(REGISTRY.collect())


def test_there_is_a_dashboard() -> None:
    assert [d.name for d in DASHBOARDS] == ["modelgate-pipeline.json"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_queried_metric_is_exposed_by_the_services(path: Path, exposed: set[str]) -> None:
    dashboard = json.loads(path.read_text())
    queries = prometheus_queries(dashboard)
    assert queries, "a dashboard without Prometheus queries"
    used = set().union(*(names_in_query(q) for q in queries))
    assert used, "no modelgate metric is queried"
    assert not used - exposed, f"queried but exposed by no service: {sorted(used - exposed)}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_the_dashboard_covers_what_operators_watch(path: Path) -> None:
    used = dashboard_metrics(path)
    for metric in (
        "modelgate_submissions_received_total",  # throughput in
        "modelgate_gate_decisions_total",  # throughput out
        "modelgate_stage_duration_seconds_bucket",  # latency per stage
        "modelgate_check_results_total",  # rejections by check
        "modelgate_dead_letters_total",
        "modelgate_consumer_lag",
        "modelgate_outbox_backlog",
        "modelgate_http_requests_total",
        "modelgate_http_request_duration_seconds_bucket",
    ):
        assert metric in used, f"the dashboard does not show {metric}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_the_dashboard_uses_provisioned_data_sources_and_links_to_traces(path: Path) -> None:
    provisioned = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "datasources.yaml").read_text()
    )
    uids = {d["uid"]: d["type"] for d in provisioned["datasources"]}
    dashboard = json.loads(path.read_text())
    used = {
        (p["datasource"]["uid"], p["datasource"]["type"])
        for p in panels(dashboard["panels"])
        if "datasource" in p
    }
    for uid, kind in used:
        assert uids.get(uid) == kind, f"panel data source {uid} ({kind}) is not provisioned"
    assert ("tempo", "tempo") in used, "no panel shows traces"
    # Latency panels carry exemplars, which Prometheus' data source turns into trace links.
    assert any(t.get("exemplar") for p in panels(dashboard["panels"]) for t in p.get("targets", []))
    destinations = provisioned["datasources"][0]["jsonData"]["exemplarTraceIdDestinations"]
    assert destinations[0]["datasourceUid"] == "tempo"
