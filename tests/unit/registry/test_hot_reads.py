"""The hot-read shortcut takes only what the FastAPI route would answer the same way."""

from __future__ import annotations

import pytest

from modelgate_registry.api.hot_reads import _bearer, _match, _paging, _query, _Unsure
from modelgate_registry.api.kubeflow.service import Paging

API = "/api/model_registry/v1alpha3"
V1 = "/api/model_registry/v1"


@pytest.mark.parametrize(
    ("path", "template", "ids"),
    [
        (f"{API}/model_versions/12", f"{API}/model_versions/{{version_id}}", ["12"]),
        (f"{V1}/model_versions/x", f"{V1}/model_versions/{{version_id}}", ["x"]),
        (f"{API}/registered_models/3/versions", f"{API}/registered_models/{{model_id}}/versions",
         ["3"]),
        (f"{API}/registered_models", f"{API}/registered_models", []),
    ],
)  # fmt: skip
def test_hot_paths_are_matched(path: str, template: str, ids: list[str]) -> None:
    found = _match(path)
    assert found is not None
    assert (found[0], found[2]) == (template, ids)


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/model_versions/12/",  # FastAPI's redirect, not ours to answer
        f"{API}/model_versions",
        f"{API}/model_versions/1/artifacts",
        f"{API}/registered_models/",
        f"{API}/registered_models/3",
        f"{API}/registered_models//versions",
        "/api/model_registry/v2/registered_models",
        "/api/model_registry/v1alpha3x/registered_models",
        "/api/v1/models",
    ],
)
def test_other_paths_go_to_the_routes(path: str) -> None:
    assert _match(path) is None


def test_paging_takes_the_values_fastapi_would_take_as_they_are() -> None:
    assert _paging({}) == Paging(100, "ID", "ASC", None)
    assert _paging({"pageSize": "50", "orderBy": "CREATE_TIME", "sortOrder": "DESC"}) == Paging(
        50, "CREATE_TIME", "DESC", None
    )
    assert _paging({"nextPageToken": ""}).token is None  # the upstream pager's last ask
    for unsure in (
        {"pageSize": "0"},
        {"pageSize": "1001"},
        {"pageSize": " 5"},
        {"pageSize": "+5"},
        {"pageSize": ""},
        {"orderBy": "id"},
        {"sortOrder": "desc"},
    ):
        with pytest.raises(_Unsure):
            _paging(unsure)


def test_a_repeated_parameter_goes_to_the_route() -> None:
    assert _query(b"pageSize=5&orderBy=ID") == {"pageSize": "5", "orderBy": "ID"}
    with pytest.raises(_Unsure):
        _query(b"pageSize=5&pageSize=6")


def test_the_token_is_read_as_httpbearer_reads_it() -> None:
    def scope(*values: bytes) -> dict[str, object]:
        return {"headers": [(b"authorization", v) for v in values]}

    assert _bearer(scope(b"Bearer abc")) == "abc"
    assert _bearer(scope(b"bearer abc")) == "abc"
    assert _bearer(scope(b"Basic abc")) is None
    assert _bearer(scope(b"Bearer")) is None
    assert _bearer(scope(b"Bearer abc", b"Bearer other")) == "abc"
    assert _bearer({"headers": []}) is None
