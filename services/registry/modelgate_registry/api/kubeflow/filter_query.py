"""`filterQuery`: the API's SQL-like filter language, parsed (lark) into parameterised SQL.

Supported: comparisons (= != <> < <= > >=, LIKE, ILIKE), IN (...), AND, OR, parentheses;
string, number and boolean literals; standard properties (per entity) and custom properties,
plain (`accuracy > 0.9`), typed (`framework.string_value = "pytorch"`) or back-quoted
(`` `mlflow.source.type` = "notebook" ``). Values never reach the SQL text, only parameters.

The parser (`filter_sql`) is imported on the first filter: lark and its grammar tables are a
few MiB of the registry's memory that most processes, whose clients never filter, never use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    """A standard property: its SQL expression and the kind of value it holds."""

    sql: str
    kind: str  # "text", "number", "bool"


def compile_filter(
    query: str | None, columns: Mapping[str, Column], custom: str, params: list[Any]
) -> str:
    """SQL for `query`, appending its values to `params`; "TRUE" when there is no query."""
    if not query or not query.strip():
        return "TRUE"
    from modelgate_registry.api.kubeflow.filter_sql import to_sql  # noqa: PLC0415 (see above)

    return to_sql(query, columns, custom, params)
