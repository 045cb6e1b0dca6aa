"""A measure's condition (`where` in rollups.toml), held to what a condition is, on PostgreSQL's own parse tree.

The condition reaches PostgreSQL verbatim (inside `FILTER (WHERE …)`) and polars (`pl.sql_expr`), so it may hold
only what both evaluate cheaply and alike: column references, constants, comparisons (`= <> != < <= > >=`,
`BETWEEN`, `LIKE`, `ILIKE`), `AND`/`OR`/`NOT`, `IS [NOT] NULL`, `IN (constants)` and the functions in FUNCTIONS.
Anything else — a subquery, another function (`lpad`, `generate_series`, `pg_sleep`…), a cast, a second
statement, a comment — is refused, naming what it is. The tree comes from pglast (PostgreSQL's parser), never a
pattern.
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType
from pglast.parser import ParseError, scan

LONGEST = 500  # characters: a condition is a short predicate, and its constants are bounded with it
FUNCTIONS = ("abs", "char_length", "length", "lower", "upper")  # and coalesce, its own node in PostgreSQL's tree
COMPARISONS = ("=", "<>", "!=", "<", "<=", ">", ">=")
_KINDS = {A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_NOT_BETWEEN,
          A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE}
# What a refused node is, as the error names it.
_NAMES = {"SubLink": "a subquery", "TypeCast": "a type cast", "ParamRef": "a parameter", "A_Indirection": "a subscript",
          "CaseExpr": "a CASE expression", "RowExpr": "a row", "A_ArrayExpr": "an array", "SQLValueFunction":
          "a special function", "CollateClause": "a COLLATE clause", "BooleanTest": "IS TRUE/FALSE/UNKNOWN",
          "MinMaxExpr": "GREATEST/LEAST", "NullIfExpr": "NULLIF"}


class ConditionError(ValueError):
    """What makes a text no condition: str() is one short phrase."""


def check(text: str, known: tuple[str, ...]) -> set[str]:
    """The columns `text` names, if it is a condition over `known` columns only; else ConditionError."""
    if len(text) > LONGEST:
        raise ConditionError(f"{len(text)} characters; at most {LONGEST}")
    try:
        tokens, stmts = scan(text), parse_sql(f"SELECT {text}")
    except ParseError as exc:
        raise ConditionError(f"PostgreSQL cannot parse it ({exc.args[0]})") from None
    if any(t.name in ("SQL_COMMENT", "C_COMMENT") for t in tokens):
        raise ConditionError("a comment (the condition is used verbatim inside a statement)")
    if len(stmts) != 1:
        raise ConditionError(f"{len(stmts)} statements, not one expression")
    select = stmts[0].stmt
    extra = [k for k in ("fromClause", "whereClause", "groupClause", "havingClause", "sortClause", "limitCount",
                         "distinctClause", "intoClause", "withClause", "windowClause") if getattr(select, k, None)]
    if not isinstance(select, ast.SelectStmt) or extra or len(select.targetList or ()) != 1:
        raise ConditionError("not one expression")
    if select.targetList[0].name:  # `cost_usd IS` parses as the column cost_usd labelled "is"
        raise ConditionError("not one expression (a trailing column label)")
    names: set[str] = set()
    _walk(select.targetList[0].val, names)
    if names - set(known):
        raise ConditionError(f"it names {', '.join(sorted(names - set(known)))}: a condition may name only "
                             f"{', '.join(known)}")
    return names


def _walk(node: object, names: set[str]) -> None:
    match node:
        case ast.BoolExpr(boolop=BoolExprType.AND_EXPR | BoolExprType.OR_EXPR | BoolExprType.NOT_EXPR):
            _all(node.args, names)
        case ast.NullTest():
            _walk(node.arg, names)
        case ast.A_Expr(kind=kind) if kind in _KINDS:
            op = node.name[-1].sval if node.name else ""
            if kind == A_Expr_Kind.AEXPR_OP and op not in COMPARISONS:
                raise ConditionError(f"the operator {op} (only comparisons: {' '.join(COMPARISONS)})")
            _walk(node.lexpr, names)
            if kind == A_Expr_Kind.AEXPR_IN and not all(isinstance(c, ast.A_Const) for c in node.rexpr):
                raise ConditionError("IN over something other than constants")
            _all(node.rexpr if isinstance(node.rexpr, tuple) else (node.rexpr,), names)
        case ast.ColumnRef():
            if len(node.fields) != 1 or not isinstance(node.fields[0], ast.String):
                raise ConditionError("a qualified column or *: name the usage row's own columns")
            names.add(node.fields[0].sval)
        case ast.A_Const():
            pass
        case ast.CoalesceExpr():
            _all(node.args, names)
        case ast.FuncCall():
            name = ".".join(p.sval for p in node.funcname)
            if name not in FUNCTIONS:
                raise ConditionError(f"the function {name} (only {', '.join(FUNCTIONS)} and coalesce)")
            if node.agg_star or node.agg_distinct or node.over or node.agg_filter or node.agg_order \
                    or node.func_variadic:
                raise ConditionError(f"{name} as an aggregate or window function")
            _all(node.args or (), names)
        case ast.A_Expr():
            raise ConditionError(f"the {node.kind.name.removeprefix('AEXPR_')} operator {node.name[-1].sval}")
        case _:
            kind = type(node).__name__
            raise ConditionError(_NAMES.get(kind, f"a {kind} node"))


def _all(nodes: tuple, names: set[str]) -> None:
    for n in nodes:
        _walk(n, names)
