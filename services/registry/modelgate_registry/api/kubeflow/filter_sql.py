"""The lark parser of `filterQuery` and its translation to SQL (see `filter_query`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError, VisitError

from modelgate_shared.errors import ApiError
from modelgate_shared.query_types import in_int64

if TYPE_CHECKING:
    from modelgate_registry.api.kubeflow.filter_query import Column

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: atom (_AND atom)*
?atom: comparison
     | in_list
     | "(" or_expr ")"
comparison: property OP value
in_list: property _IN "(" value ("," value)* ")"
property: NAME ("." NAME)?
        | QUOTED
?value: STRING -> string
      | NUMBER -> number
      | TRUE -> true
      | FALSE -> false
OP: "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">" | /ILIKE/i | /LIKE/i
_OR: /OR/i
_AND: /AND/i
_IN: /IN/i
TRUE: /true/i
FALSE: /false/i
QUOTED: /`[^`]+`/
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
NAME: /[A-Za-z_][A-Za-z0-9_\-]*/
NUMBER: /-?\d+(\.\d+)?([eE][-+]?\d+)?/
%import common.WS
%ignore WS
"""
_PARSER = Lark(GRAMMAR, parser="lalr")
TYPED = ("string_value", "int_value", "double_value", "bool_value")
_TYPED_KIND = {
    "string_value": "text",
    "int_value": "number",
    "double_value": "number",
    "bool_value": "bool",
}
_KIND_WORDS = {
    "string_value": "text (a quoted string)",
    "int_value": "a number",
    "double_value": "a number",
    "bool_value": "a boolean (true or false)",
}
# What PostgreSQL's numeric input takes, less NaN and Infinity: stored custom properties were
# not always checked, and a cast of "zzz" would fail the whole query rather than not match.
_NUMERIC_TEXT = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,4})?\s*$"


def _as_number(text_sql: str) -> str:
    """`text_sql` as numeric, or NULL (no match) when it holds no number."""
    return f"(CASE WHEN {text_sql} ~ '{_NUMERIC_TEXT}' THEN ({text_sql})::numeric END)"


def _as_bool(text_sql: str) -> str:
    """`text_sql` as boolean, or NULL (no match) when it holds none."""
    return f"(CASE lower({text_sql}) WHEN 'true' THEN true WHEN 'false' THEN false END)"


class _ToSql(Transformer[Token, str]):
    def __init__(self, columns: Mapping[str, Column], custom: str, params: list[Any]) -> None:
        super().__init__()
        self.columns = columns
        self.custom = custom
        self.params = params

    def _param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def string(self, items: list[Token]) -> Any:
        raw = str(items[0])[1:-1]
        return ("text", raw.replace("\\'", "'").replace('\\"', '"').replace("\\\\", "\\"))

    def number(self, items: list[Token]) -> Any:
        text = str(items[0])
        if any(c in text for c in ".eE"):
            value = float(text)
            if not math.isfinite(value):
                raise ValueError(f"{text} is not a finite number")
            return ("number", value)
        whole = int(text)
        if not in_int64(whole):
            raise ValueError(f"{text} is outside the 64-bit integer range")
        return ("number", whole)

    def true(self, _: list[Token]) -> Any:
        return ("bool", True)

    def false(self, _: list[Token]) -> Any:
        return ("bool", False)

    def property(self, items: list[Token]) -> Any:
        if len(items) == 1 and str(items[0]).startswith("`"):
            return (str(items[0])[1:-1], None)
        name = str(items[0])
        typed = str(items[1]) if len(items) == 2 else None
        if typed is not None and typed not in TYPED:
            name, typed = f"{name}.{typed}", None  # a dotted custom property name
        return (name, typed)

    def _target(self, prop: tuple[str, str | None], kind: str) -> str:
        name, typed = prop
        column = self.columns.get(name)
        if column is not None and typed is None:
            if column.kind == "text" and kind != "text":
                raise ValueError(f"{name} is text: compare it with a quoted string")
            if column.kind == "number" and kind != "number":
                raise ValueError(f"{name} is a number: compare it with a number")
            return column.sql
        if typed is not None and _TYPED_KIND[typed] != kind:
            raise ValueError(f"{name}.{typed} holds {_KIND_WORDS[typed]}: compare it with one")
        key = self._param(name)
        node = f"({self.custom} -> {key})"
        if typed == "string_value" or (typed is None and kind == "text"):
            return f"({node} ->> 'string_value')"
        if typed == "bool_value" or (typed is None and kind == "bool"):
            return _as_bool(f"({node} ->> 'bool_value')")
        if typed == "int_value":
            return _as_number(f"({node} ->> 'int_value')")
        if typed == "double_value":
            return _as_number(f"({node} ->> 'double_value')")
        as_int = _as_number(f"({node} ->> 'int_value')")
        as_double = _as_number(f"({node} ->> 'double_value')")
        return f"(coalesce({as_int}, {as_double}))"

    def _compare(self, target: str, op: str, value: Any, standard: bool) -> str:
        # A float against a bigint column: compared as double precision, since asyncpg would
        # refuse to send 1.5 as the column's bigint.
        cast = "::float8" if standard and isinstance(value, float) else ""
        return f"({target} {op} {self._param(value)}{cast})"

    def _standard(self, prop: tuple[str, str | None]) -> bool:
        return prop[1] is None and prop[0] in self.columns

    def comparison(self, items: list[Any]) -> str:
        prop, op, (kind, value) = items[0], str(items[1]).upper(), items[2]
        target = self._target(prop, kind)
        if op in ("LIKE", "ILIKE"):
            if kind != "text":
                raise ValueError(f"{op} needs a quoted pattern")
            return f"({target} {op} {self._param(value)})"
        sql_op = "<>" if op == "!=" else op
        return self._compare(target, sql_op, value, self._standard(prop))

    def in_list(self, items: list[Any]) -> str:
        prop, values = items[0], items[1:]
        kinds = {k for k, _ in values}
        if len(kinds) != 1:
            raise ValueError("IN (...) values must all be of one type")
        target = self._target(prop, kinds.pop())
        cast = (
            "::float8"
            if self._standard(prop) and any(isinstance(v, float) for _, v in values)
            else ""
        )
        listed = ", ".join(f"{self._param(v)}{cast}" for _, v in values)
        return f"({target} IN ({listed}))"

    def and_expr(self, items: list[str]) -> str:
        return "(" + " AND ".join(items) + ")"

    def or_expr(self, items: list[str]) -> str:
        return "(" + " OR ".join(items) + ")"


def to_sql(query: str, columns: Mapping[str, Column], custom: str, params: list[Any]) -> str:
    """SQL for a non-empty `query`, appending its values to `params`."""
    try:
        tree: Tree[Token] = _PARSER.parse(query)
        result = _ToSql(columns, custom, params).transform(tree)
    except VisitError as exc:
        raise ApiError(400, f"invalid filterQuery {query!r}: {exc.orig_exc}") from exc
    except LarkError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise ApiError(400, f"invalid filterQuery {query!r}: {first_line}") from exc
    except RecursionError as exc:
        # Parentheses fold away in the tree, so 4 KiB of query has not been seen to reach
        # this; a 400, not a 500, should a grammar change ever let it.
        raise ApiError(400, "invalid filterQuery: nested too deeply") from exc
    return str(result)
