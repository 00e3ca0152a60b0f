"""filterQuery: the simple forms compile to parameterised SQL; values never enter the SQL."""

from __future__ import annotations

from typing import Any

import pytest

from modelgate_registry.api.kubeflow.filter_query import Column, compile_filter
from modelgate_shared.errors import ApiError

COLUMNS = {
    "name": Column("m.name", "text"),
    "state": Column("m.state", "text"),
    "id": Column("m.id", "number"),
}


def compile_(query: str) -> tuple[str, list[Any]]:
    params: list[Any] = []
    return compile_filter(query, COLUMNS, "m.custom_properties", params), params


def test_the_seeds_form() -> None:
    sql, params = compile_("name='my-model' AND state='LIVE'")
    assert sql == "((m.name = $1) AND (m.state = $2))"
    assert params == ["my-model", "LIVE"]


def test_or_parentheses_like_and_in() -> None:
    sql, params = compile_('(name = "a" OR name LIKE "b%") AND id IN (1, 2)')
    assert sql == "(((m.name = $1) OR (m.name LIKE $2)) AND (m.id IN ($3, $4)))"
    assert params == ["a", "b%", 1, 2]


def test_custom_properties_plain_typed_and_quoted() -> None:
    sql, params = compile_("accuracy > 0.95")
    assert "int_value" in sql
    assert "double_value" in sql
    assert params == ["accuracy", 0.95]
    sql, params = compile_('framework.string_value = "pytorch"')
    assert sql == "(((m.custom_properties -> $1) ->> 'string_value') = $2)"
    sql, params = compile_('`mlflow.source.type` = "notebook"')
    assert params == ["mlflow.source.type", "notebook"]
    sql, _ = compile_("quantized = true")
    assert "bool_value" in sql


def test_an_injection_attempt_stays_a_value() -> None:
    sql, params = compile_('name = "x\'; DROP TABLE registry.models; --"')
    assert "DROP" not in sql
    assert "DROP" in str(params)


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("name = ", "Unexpected"),
        ("name = 1", "name is text"),
        ("id = 'one'", "id is a number"),
        ("state LIKE 3", "state is text"),
        ("id IN (1, 'x')", "one type"),
        ("id > 99999999999999999999999", "64-bit"),
        ("id = 1e999", "finite"),
        ('acc.int_value = "abc"', "holds a number"),
        ('acc.double_value IN ("a")', "holds a number"),
        ("acc.string_value = 1", "holds text"),
        ("acc.bool_value = 'yes'", "holds a boolean"),
    ],
)
def test_bad_queries_are_400_with_the_reason(query: str, why: str) -> None:
    with pytest.raises(ApiError) as refused:
        compile_(query)
    assert refused.value.status == 400
    assert why in refused.value.message


def test_no_query_is_true() -> None:
    assert compile_filter(None, COLUMNS, "c", []) == "TRUE"
    assert compile_filter("  ", COLUMNS, "c", []) == "TRUE"


def test_stored_custom_values_are_cast_only_when_they_hold_one() -> None:
    # A stored double_value "zzz" must not match (NULL), not fail the query in a cast.
    sql, _ = compile_("acc.double_value > 0.5")
    assert "::numeric END" in sql
    assert "CASE WHEN" in sql
    sql, _ = compile_("quantized = true")
    assert "WHEN 'true' THEN true" in sql
    assert "::boolean" not in sql


def test_a_float_against_a_bigint_column_is_compared_as_double() -> None:
    sql, params = compile_("id > 0.5")
    assert sql == "(m.id > $1::float8)"
    assert params == [0.5]
    sql, params = compile_("id IN (1, 2.5)")
    assert sql == "(m.id IN ($1::float8, $2::float8))"
    sql, _ = compile_("id = 9223372036854775807")
    assert sql == "(m.id = $1)"
