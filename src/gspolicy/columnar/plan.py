"""The columnar lowering: a checked pack, for one as-of date, as a plan any columnar back end runs.

A plan is a small tree of column operations (`Node`), free of Python values that vary by record:
the parameters in force are constants (a range a `Range`, a value not established an
`Unknowable` naming it), fields are columns of the subject's frame or of a list's item frame,
aggregates name the list they run over, and every key that can say what would settle an
undetermined value — a data path of the subject, a ``param:`` name, a field of a list's items, an
evaluation problem — has a number in the run's `Keys`, so a back end carries what is missing as
bitsets and the decoder turns them back into the interpreter's names.

The semantics are the reference interpreter's (`gspolicy.lang.interpret`) and the per-record
evaluator's (`gspolicy.engine.compiled`), node for node; where a construct has no lowering here
the plan says why (`PackPlan.fallback`) and the runner decides that pack record by record, with
the reason in its report.  Nothing about Polars is here: a second back end reads the same plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

import attrs

from gspolicy.engine.run import parameter_values
from gspolicy.lang.typed import (
    TAge,
    TAggregate,
    TArith,
    TAsOf,
    TBool,
    TCall,
    TCompare,
    TConst,
    TFact,
    TField,
    TIf,
    TNeg,
    TNot,
    TParam,
    TPresent,
    TSet,
    TypedExpr,
)
from gspolicy.lang.types import BOOL, DATE, NUMBER, STRING, EnumT, ListT, SetT, Type
from gspolicy.lang.values import Interval, Unknown
from gspolicy.pack.typecheck import CheckedPack
from gspolicy.schema.model import Schema

__all__ = [
    "WORD_BITS",
    "Age",
    "Aggregate",
    "Arith",
    "Compare",
    "Const",
    "DateCall",
    "DateShift",
    "FactRef",
    "Field",
    "If",
    "InPool",
    "Keys",
    "ListSource",
    "ListValue",
    "Logic",
    "Member",
    "Neg",
    "Node",
    "Not",
    "PackPlan",
    "Planner",
    "Present",
    "Range",
    "Unknowable",
    "plan_pack",
]

Kind = Literal["bool", "num", "date", "text", "set", "list"]

WORD_BITS = 64
"""Bits in one what-would-settle word (a `UInt64` column)."""
PROBLEM_CODES = ("eval/date-out-of-range", "eval/unknown-fact", "eval/fact-cycle")
PROBLEM_MASK = (1 << len(PROBLEM_CODES)) - 1
"""Evaluation problems are the first subject keys (``!`` and their code): they travel with what
would settle a value, as the interpreter's `Unknown` carries both, and are told apart when decoded."""


class Keys:
    """The numbering of everything a run can name as missing, shared by the packs of a run.

    *Subject keys* are data paths of the subject (``income.per_capita``, ``members``), ``param:``
    names and the text ``(list)``, after the evaluation problems (``!eval/date-out-of-range``);
    *item fields* are a list and a field path of its items (``members`` and ``birth_date``: the
    key ``members[i].birth_date`` for item ``i``).
    """

    def __init__(self) -> None:
        self.subject: list[str] = []
        self.items: list[tuple[str, tuple[str, ...]]] = []
        self._subject: dict[str, int] = {}
        self._items: dict[tuple[str, tuple[str, ...]], int] = {}
        for code in PROBLEM_CODES:
            self.subject_key(f"!{code}")

    def subject_key(self, name: str) -> int:
        found = self._subject.get(name)
        if found is None:
            found = self._subject[name] = len(self.subject)
            self.subject.append(name)
        return found

    def item_key(self, list_path: str, field: tuple[str, ...]) -> int:
        key = (list_path, field)
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = len(self.items)
            self.items.append(key)
        return found

    @staticmethod
    def problem(code: str) -> int:
        return PROBLEM_CODES.index(code)

    def item_name(self, component: int, index: int) -> str:
        list_path, field = self.items[component]
        return f"{list_path}[{index}].{'.'.join(field)}" if field else f"{list_path}[{index}]"


# -- the nodes -------------------------------------------------------------------------------------


@attrs.frozen
class Const:
    """A known constant: a truth value, an exact number, a date, a text or code, a set of codes."""

    kind: Kind
    value: object


@attrs.frozen
class Unknowable:
    """A value unknown for every record: a parameter not established, a fact that does not exist."""

    kind: Kind
    keys: frozenset[int] = frozenset()
    problems: frozenset[int] = frozenset()


@attrs.frozen
class Range:
    """A number known only within [low, high] for every record (a parameter given as a range);
    an open end is an infinite `Decimal`."""

    low: Decimal
    high: Decimal
    keys: frozenset[int]


@attrs.frozen
class Field:
    """A field read.  Scope 0: the subject's column `path`, missing as subject key `key`; scope
    1: the column of the item frame of the enclosing aggregate, missing as item field `key`."""

    kind: Kind
    scope: int
    path: tuple[str, ...]
    key: int


@attrs.frozen
class Present:
    """Whether a field is given (never unknown)."""

    scope: int
    path: tuple[str, ...]


@attrs.frozen
class Not:
    operand: Node


@attrs.frozen
class Logic:
    """Kleene ``and`` / ``or`` over the operands (an empty ``or`` is false, an empty ``and`` true)."""

    op: Literal["and", "or"]
    operands: tuple[Node, ...]


@attrs.frozen
class Compare:
    """``left op right`` for ``< <= > >= == !=`` on operands of kind `kind` (bounds decide ranges)."""

    op: str
    left: Node
    right: Node
    kind: Kind


@attrs.frozen
class Member:
    """``left in [codes…]`` with constant texts: a known left is looked up; an unknown left is
    unknown (false when there are no codes)."""

    left: Node
    codes: frozenset[str]


@attrs.frozen
class InPool:
    """``left in pool`` for a set-valued pool (a parameter or a set field)."""

    left: Node
    pool: Node


@attrs.frozen
class Arith:
    op: Literal["+", "-", "*"]
    left: Node
    right: Node


@attrs.frozen
class Neg:
    operand: Node


@attrs.frozen
class If:
    kind: Kind
    cond: Node
    then: Node
    orelse: Node


@attrs.frozen
class ListSource:
    """A list of the subject to aggregate over: the field `path` (missing as subject key
    `key`), kept whole or filtered by `held_on` a day (items without a start date make the
    filtered list unknown, naming item field `start_key`).  `name` is the list's data path in
    messages: the field's path, or ``(list)`` for a filtered list."""

    path: tuple[str, ...]
    key: int
    held_on: Node | None = None
    start_key: int | None = None
    name_key: int | None = None  # the subject key of `name` (for min and max over no items)
    # with `held_on`: the items' fields that play the roles `support_start` and `support_end`
    held_fields: tuple[str, ...] = ()


@attrs.frozen
class Aggregate:
    """``func(source, body)`` over the items of a list; `body` runs in the item frame."""

    func: Literal["any", "all", "count", "sum", "min", "max"]
    source: ListSource
    body: Node | None
    kind: Kind


@attrs.frozen
class ListValue:
    """A list as a value (the buffer's retained history): which items it holds."""

    source: ListSource


@attrs.frozen
class Age:
    """The age in whole years on the as-of date of the subject (scope 0) or the item (scope 1):
    from the birth date, else a range from a recorded age and the date it was recorded."""

    scope: int
    as_of: dt.date
    birth_key: int  # subject key or item field of the birth date
    # the fields that play the roles `birth_date`, `recorded_age`, `age_recorded_on` (`TAge`)
    birth: str
    recorded: str | None = None
    recorded_on: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the age is read from."""
        return tuple(n for n in (self.birth, self.recorded, self.recorded_on) if n is not None)


@attrs.frozen
class DateCall:
    """``year(d)``, ``years_between(a, b)`` or ``within(d, first, last)``."""

    func: Literal["year", "years_between", "within"]
    args: tuple[Node, ...]


@attrs.frozen
class DateShift:
    """``years_after(n, d)`` / ``months_after(n, d)``: `day` shifted by whole `months`, a day the
    month reached lacks given by `missing_day` (`gspolicy.lang.interpret.shift_months`)."""

    months: int
    missing_day: str
    day: Node


@attrs.frozen
class FactRef:
    """A derived fact of the pack (about the subject, wherever it is used)."""

    pack: str
    name: str


Node = (
    Const
    | Unknowable
    | Range
    | Field
    | Present
    | Not
    | Logic
    | Compare
    | Member
    | InPool
    | Arith
    | Neg
    | If
    | Aggregate
    | ListValue
    | Age
    | DateCall
    | DateShift
    | FactRef
)


@attrs.frozen
class PackPlan:
    """A pack version lowered for one date: a node per condition, the facts they use, or the
    reason it could not be lowered (then the runner decides the pack record by record)."""

    pack: CheckedPack
    as_of: dt.date
    fallback: str | None
    facts: Mapping[str, Node] = attrs.field(factory=dict)
    applies: Node | None = None
    givens: Mapping[str, Node] = attrs.field(factory=dict)
    criteria: Mapping[str, Node] = attrs.field(factory=dict)
    rules: Mapping[str, Node] = attrs.field(factory=dict)
    buffer: tuple[ListValue, Mapping[str, Node], Mapping[str, Node]] | None = None


class NotLowered(Exception):
    """A construct the columnar lowering does not carry; the message says which."""


def kind_of(t: Type) -> Kind:
    if t == BOOL:
        return "bool"
    if t == NUMBER:
        return "num"
    if t == DATE:
        return "date"
    if t == STRING or isinstance(t, EnumT):
        return "text"
    if isinstance(t, SetT):
        return "set"
    if isinstance(t, ListT):
        return "list"
    raise NotLowered(f"values of type {type(t).__name__}")


def plan_pack(pack: CheckedPack, as_of: dt.date, keys: Keys) -> PackPlan:
    """The plan of `pack` as of `as_of`, numbering its keys in `keys`."""
    builder = Planner(pack, as_of, keys)
    try:
        applies = builder.lower(pack.applies) if pack.applies is not None else None
        givens = {k: builder.lower(t) for k, t in pack.givens.items()}
        criteria = {k: builder.lower(t) for k, t in pack.criteria.items()}
        rules = {k: builder.lower(t) for k, t in pack.rules.items()}
        buffer = None
        if pack.buffer is not None:
            retained = ListValue(builder.source(pack.buffer.retained))
            buffer = (
                retained,
                {k: builder.lower(t) for k, t in pack.buffer.active.items()},
                {k: builder.lower(t) for k, t in pack.buffer.until.items()},
            )
    except NotLowered as why:
        return PackPlan(pack, as_of, str(why))
    return PackPlan(pack, as_of, None, builder.facts, applies, givens, criteria, rules, buffer)


class Planner:
    """Lowers typed expressions of one pack as of one date into plan nodes (`plan_named` extends it)."""

    def __init__(self, pack: CheckedPack, as_of: dt.date, keys: Keys) -> None:
        self.pack = pack
        self.as_of = as_of
        self.keys = keys
        self.schema: Schema = pack.schema
        self.params = parameter_values(pack, as_of)
        self.facts: dict[str, Node] = {}
        self.pending: list[str] = []
        self.active: set[str] = set()
        # the list each item scope runs over (scope 1 is the only item scope lowered)
        self.item_list: list[str] = []

    # -- reads -----------------------------------------------------------------------------------
    def lower(self, node: TypedExpr) -> Node:
        if isinstance(node, TConst):
            return Const(kind_of(node.type), node.value)
        if isinstance(node, TField):
            return self.field(node)
        if isinstance(node, TParam):
            return self.parameter(node)
        if isinstance(node, TFact):
            return self.fact(node)
        if isinstance(node, TAsOf):
            return Const("date", self.as_of)
        if isinstance(node, TAge):
            return self.age(node)
        if isinstance(node, TPresent):
            field = node.field
            self.check_scope(field.scope)
            return Present(field.scope, field.path)
        if isinstance(node, TNot):
            return Not(self.lower(node.operand))
        if isinstance(node, TNeg):
            return Neg(self.lower(node.operand))
        if isinstance(node, TBool):
            # `a and (b and c)` is `a and b and c` (Kleene's and is associative, and what would
            # settle it is the union either way): one node instead of two
            operands: list[Node] = []
            for operand in node.operands:
                lowered = self.lower(operand)
                if isinstance(lowered, Logic) and lowered.op == node.op:
                    operands.extend(lowered.operands)
                else:
                    operands.append(lowered)
            return Logic(node.op, tuple(operands))
        if isinstance(node, TCompare):
            return self.compare(node)
        if isinstance(node, TArith):
            if node.op == "/":
                raise NotLowered("division (its rounding is the interpreter's decimal context)")
            return Arith(node.op, self.lower(node.left), self.lower(node.right))
        if isinstance(node, TIf):
            return If(
                kind_of(node.type), self.lower(node.cond), self.lower(node.then), self.lower(node.orelse)
            )
        if isinstance(node, TAggregate):
            return self.aggregate(node)
        if isinstance(node, TCall):
            return self.call(node)
        raise NotLowered(f"a {type(node).__name__} here")

    def check_scope(self, scope: int) -> None:
        if scope > len(self.item_list):
            raise NotLowered("a field of an outer item inside a nested aggregate")

    def field(self, node: TField) -> Node:
        kind = kind_of(node.type)
        self.check_scope(node.scope)
        if node.scope == 0:
            if kind == "list":
                raise NotLowered("a list used other than as an aggregate's items or a retained history")
            return Field(kind, 0, node.path, self.keys.subject_key(".".join(node.path)))
        if kind == "list":
            raise NotLowered("a list inside a list's items")
        return Field(
            kind, node.scope, node.path, self.keys.item_key(self.item_list[node.scope - 1], node.path)
        )

    def parameter(self, node: TParam) -> Node:
        kind = kind_of(node.type)
        key = f"param:{node.name}"
        value = self.params.get(node.name)
        if value is None or isinstance(value, Unknown):
            return Unknowable(kind, frozenset({self.keys.subject_key(key)}))
        if isinstance(value, Interval):
            if value.low == value.high:
                raise NotLowered(f"the range parameter `{node.name}` with equal ends")
            return Range(Decimal(value.low), Decimal(value.high), frozenset({self.keys.subject_key(key)}))
        if isinstance(value, frozenset):
            return Const("set", value)
        return Const(kind, value)

    def fact(self, node: TFact) -> Node:
        name = node.name
        if name not in self.pack.facts:
            problem = Keys.problem("eval/unknown-fact")
            return Unknowable(kind_of(node.type), problems=frozenset({problem}))
        if name in self.active:
            raise NotLowered(f"the facts around `{name}` refer to each other")
        if name not in self.facts:
            self.active.add(name)
            saved = self.item_list
            self.item_list = []  # a fact is about the subject, wherever it is used
            try:
                self.facts[name] = self.lower(self.pack.facts[name])
            finally:
                self.item_list = saved
                self.active.discard(name)
        return FactRef(self.pack.key, name)

    def age(self, node: TAge) -> Node:
        self.check_scope(node.scope)
        if node.scope == 0:
            key = self.keys.subject_key(node.birth)
        else:
            key = self.keys.item_key(self.item_list[node.scope - 1], (node.birth,))
        return Age(node.scope, self.as_of, key, node.birth, node.recorded, node.recorded_on)

    # -- operators ------------------------------------------------------------------------------
    def compare(self, node: TCompare) -> Node:
        left_node = node.operands[0]
        left = self.lower(left_node)
        links: list[Node] = []
        for op, right_node in zip(node.ops, node.operands[1:], strict=True):
            if op in ("in", "not in"):
                found = self.member(left, right_node)
                links.append(Not(found) if op == "not in" else found)
            else:
                right = self.lower(right_node)
                links.append(Compare(op, left, right, kind_of(left_node.type)))
                left, left_node = right, right_node
        return links[0] if len(links) == 1 else Logic("and", tuple(links))

    def member(self, left: Node, right_node: TypedExpr) -> Node:
        if isinstance(right_node, TSet):
            items = [self.lower(i) for i in right_node.items]
            if all(isinstance(i, Const) and isinstance(i.value, str) for i in items):
                return Member(left, frozenset(str(i.value) for i in items if isinstance(i, Const)))
            kind = kind_of(right_node.items[0].type) if right_node.items else "text"
            return Logic("or", tuple(Compare("==", left, i, kind) for i in items))
        pool = self.lower(right_node)
        if kind_of(right_node.type) != "set":
            raise NotLowered("`in` a value that is not a set")
        return InPool(left, pool)

    # -- aggregates and calls ---------------------------------------------------------------------
    def source(self, node: TypedExpr) -> ListSource:
        if isinstance(node, TField) and node.scope == 0 and isinstance(node.type, ListT):
            text = ".".join(node.path)
            return ListSource(node.path, self.keys.subject_key(text), name_key=self.keys.subject_key(text))
        if isinstance(node, TCall) and node.func == "held_on":
            inner = node.args[0]
            if not (isinstance(inner, TField) and inner.scope == 0 and isinstance(inner.type, ListT)):
                raise NotLowered("`held_on` of a list that is not a list of the subject")
            text = ".".join(inner.path)
            day = self.lower(node.args[1])
            start = node.fields[0]  # the field of `support_start`, as the type checker found it
            return ListSource(
                inner.path,
                self.keys.subject_key(text),
                day,
                self.keys.item_key(text, (start,)),
                self.keys.subject_key("(list)"),
                node.fields,
            )
        raise NotLowered("an aggregate over a list that is not a list of the subject")

    def aggregate(self, node: TAggregate) -> Node:
        if self.item_list:
            raise NotLowered("an aggregate inside an aggregate")
        source = self.source(node.source)
        body = None
        if node.body is not None:
            self.item_list = [".".join(source.path)]
            try:
                body = self.lower(node.body)
            finally:
                self.item_list = []
        return Aggregate(node.func, source, body, kind_of(node.type))

    def call(self, node: TCall) -> Node:
        if node.func == "held_on":
            if self.item_list:
                raise NotLowered("`held_on` inside an aggregate")
            return ListValue(self.source(node))
        if node.func in ("years_after", "months_after"):
            count, day, rule = node.args
            assert isinstance(count, TConst)
            assert isinstance(count.value, int)
            assert isinstance(rule, TConst)
            months = count.value * (12 if node.func == "years_after" else 1)
            return DateShift(months, str(rule.value), self.lower(day))
        if node.func not in ("year", "years_between", "within"):
            raise NotLowered(f"`{node.func}()` reads a decision's outcome")
        return DateCall(node.func, tuple(self.lower(a) for a in node.args))
