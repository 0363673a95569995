"""A parser of CQL2 text (OGC 21-065), the filter language of OGC API - Features Part 3,
for the subset the ``/ogc`` API implements: the basic CQL2 class (comparisons of a
property with a literal or another property, ``AND``, ``OR``, ``NOT``, ``IS [NOT]
NULL``), the advanced comparison operators (``[NOT] LIKE``, ``[NOT] BETWEEN``, ``[NOT]
IN``) and the spatial function ``S_INTERSECTS`` with a WKT or ``BBOX`` literal.

It returns a small syntax tree of plain dataclasses; turning it into SQL is the
repository's business. Errors are :class:`geo.errors.InvalidInputError` naming the
``filter`` parameter and the position where the text went wrong.

>>> parse("category = 'tags' AND NOT reported_on < DATE('2024-01-01')").items[1]
Not(item=Compare(op='<', left=Prop(name='reported_on'), right=Lit(value=datetime.date(2024, 1, 1))))
>>> parse("status IN ('signale', 'analyse') OR priority IS NULL").__class__.__name__
'Or'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidInputError

#: The longest filter accepted (characters).
MAX_LENGTH = 10_000


@dataclass(frozen=True)
class Prop:
    name: str


@dataclass(frozen=True)
class Lit:
    value: Any  # str, int, float, bool, date or datetime


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < > <= >=
    left: Prop | Lit
    right: Prop | Lit


@dataclass(frozen=True)
class Like:
    item: Prop
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class Between:
    item: Prop
    low: Lit
    high: Lit
    negated: bool = False


@dataclass(frozen=True)
class In:
    item: Prop
    values: tuple[Lit, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    item: Prop
    negated: bool = False


@dataclass(frozen=True)
class Intersects:
    item: Prop
    geometry: BaseGeometry


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Const:
    value: bool


Node = Compare | Like | Between | In | IsNull | Intersects | And | Or | Not | Const

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
    | (?P<quoted>"(?:[^"]|"")+")
    | (?P<word>[A-Za-z_][A-Za-z0-9_.:]*)
    | (?P<op><>|<=|>=|=|<|>|\(|\)|,)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {
    "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE",
    "DATE", "TIMESTAMP", "S_INTERSECTS", "BBOX",
}  # fmt: skip
_COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")
_WKT = ("POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON")
_WKT_ALL = (*_WKT, "GEOMETRYCOLLECTION")


@dataclass(frozen=True)
class _Token:
    kind: str  # string, number, quoted, word, op, end
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    out, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        m = _TOKEN.match(text, at)
        if m is None or m.lastgroup is None:
            rest = text[at:].lstrip()
            raise _error(len(text) - len(rest), f"caractère inattendu « {rest[:1]} »")
        out.append(_Token(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        at = m.end()
    out.append(_Token("end", "", len(text)))
    return out


def _error(at: int, message: str) -> InvalidInputError:
    return InvalidInputError(f"filter : CQL2 invalide à la position {at + 1} : {message}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def word(self, offset: int = 0) -> str:
        token = self.tokens[min(self.i + offset, len(self.tokens) - 1)]
        return token.text.upper() if token.kind == "word" else ""

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.peek
        if (token.text.upper() if token.kind == "word" else token.text) != text:
            found = token.text or "la fin du filtre"
            raise _error(token.at, f"« {text} » attendu, « {found} » trouvé")
        return self.take()

    def accept_word(self, word: str) -> bool:
        if self.word() == word:
            self.i += 1
            return True
        return False

    # boolean expressions: OR of ANDs of (NOT) terms
    def expression(self) -> Node:
        items = [self.conjunction()]
        while self.accept_word("OR"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Node:
        items = [self.negation()]
        while self.accept_word("AND"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Node:
        if self.accept_word("NOT"):
            return Not(self.negation())
        if self.peek.text == "(":
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        return self.predicate()

    def predicate(self) -> Node:
        token = self.peek
        if self.word() == "S_INTERSECTS":
            self.take()
            self.expect("(")
            item = self.prop()
            self.expect(",")
            geometry = self.spatial_literal()
            self.expect(")")
            return Intersects(item, geometry)
        if self.word() in ("TRUE", "FALSE"):
            after = self.tokens[self.i + 1]
            if after.text not in _COMPARISONS and self.word(1) not in ("IS", "NOT", "IN"):
                return Const(self.take().text.upper() == "TRUE")
        left = self.scalar()
        negated = self.accept_word("NOT")
        keyword = self.word()
        if keyword in ("LIKE", "BETWEEN", "IN"):
            item = self._prop_of(left, token)
            self.take()
            if keyword == "LIKE":
                pattern = self.scalar()
                if not isinstance(pattern, Lit) or not isinstance(pattern.value, str):
                    raise _error(token.at, "LIKE attend un motif entre apostrophes")
                return Like(item, pattern.value, negated)
            if keyword == "BETWEEN":
                low = self.literal()
                self.expect("AND")
                return Between(item, low, self.literal(), negated)
            if keyword == "IN":
                self.expect("(")
                values = [self.literal()]
                while self.peek.text == ",":
                    self.take()
                    values.append(self.literal())
                self.expect(")")
                return In(item, tuple(values), negated)
        if negated:
            raise _error(self.peek.at, "LIKE, BETWEEN ou IN attendu après NOT")
        if self.accept_word("IS"):
            item = self._prop_of(left, token)
            negated = self.accept_word("NOT")
            self.expect("NULL")
            return IsNull(item, negated)
        op = self.peek
        if op.kind != "op" or op.text not in _COMPARISONS:
            found = op.text or "la fin du filtre"
            raise _error(op.at, f"opérateur de comparaison attendu, « {found} » trouvé")
        self.take()
        return Compare(op.text, left, self.scalar())

    def _prop_of(self, node: Prop | Lit, token: _Token) -> Prop:
        if not isinstance(node, Prop):
            raise _error(token.at, "un nom de propriété est attendu ici")
        return node

    def prop(self) -> Prop:
        node = self.scalar()
        if not isinstance(node, Prop):
            raise _error(self.tokens[self.i - 1].at, "un nom de propriété est attendu ici")
        return node

    def literal(self) -> Lit:
        token = self.peek
        node = self.scalar()
        if not isinstance(node, Lit):
            raise _error(token.at, "une valeur est attendue ici")
        return node

    def scalar(self) -> Prop | Lit:
        token = self.take()
        if token.kind == "string":
            return Lit(token.text[1:-1].replace("''", "'"))
        if token.kind == "number":
            number = float(token.text)
            return Lit(int(token.text) if re.fullmatch(r"[+-]?\d+", token.text) else number)
        if token.kind == "quoted":
            return Prop(token.text[1:-1].replace('""', '"'))
        if token.kind == "word":
            upper = token.text.upper()
            if upper in ("TRUE", "FALSE"):
                return Lit(upper == "TRUE")
            if upper in ("DATE", "TIMESTAMP") and self.peek.text == "(":
                self.take()
                value = self.take()
                self.expect(")")
                if value.kind != "string":
                    raise _error(value.at, f"{upper}('…') attend une date entre apostrophes")
                return Lit(_instant(value.text[1:-1], upper, value.at))
            if upper in _KEYWORDS:
                raise _error(token.at, f"« {token.text} » inattendu")
            return Prop(token.text)
        found = token.text or "la fin du filtre"
        raise _error(token.at, f"une propriété ou une valeur est attendue, « {found} » trouvé")

    def spatial_literal(self) -> BaseGeometry:
        token = self.peek
        keyword = self.word()
        if keyword == "BBOX":
            self.take()
            self.expect("(")
            numbers = [self.number()]
            while self.peek.text == ",":
                self.take()
                numbers.append(self.number())
            self.expect(")")
            if len(numbers) not in (4, 6):
                raise _error(token.at, "BBOX attend 4 (ou 6) nombres")
            half = len(numbers) // 2
            box = (numbers[0], numbers[1], numbers[half], numbers[half + 1])
            if box[0] > box[2] or box[1] > box[3]:
                raise _error(token.at, "BBOX : le coin bas-gauche doit précéder le coin haut-droit")
            return shapely.box(*box)
        if keyword not in _WKT_ALL:
            raise _error(token.at, f"géométrie attendue ({', '.join(_WKT)} ou BBOX)")
        # The WKT literal runs to its balanced closing parenthesis.
        depth, j = 0, self.i + 1
        while j < len(self.tokens) and self.tokens[j].kind != "end":
            depth += {"(": 1, ")": -1}.get(self.tokens[j].text, 0)
            if depth == 0:
                break
            j += 1
        if depth != 0:
            raise _error(token.at, f"{keyword} : parenthèse fermante manquante")
        wkt = self.text[token.at : self.tokens[j].at + 1]
        try:
            geometry = shapely.from_wkt(wkt)
        except shapely.errors.ShapelyError as exc:
            raise _error(token.at, f"{keyword} mal formé ({exc})") from None
        self.i = j + 1
        return geometry

    def number(self) -> float:
        token = self.take()
        if token.kind != "number":
            raise _error(token.at, f"nombre attendu, « {token.text or 'fin du filtre'} » trouvé")
        return float(token.text)


def _instant(text: str, kind: str, at: int) -> date | datetime:
    try:
        if kind == "DATE":
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _error(at, f"{kind}('{text}') : date mal formée (AAAA-MM-JJ)") from None


def parse(text: str) -> Node:
    """The syntax tree of a CQL2 text filter, or :class:`InvalidInputError` naming
    ``filter`` and where it went wrong."""
    if len(text) > MAX_LENGTH:
        raise InvalidInputError("text_too_long", field="filter", limit=MAX_LENGTH)
    if not text.strip():
        raise InvalidInputError("filter_empty", field="filter")
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek.kind != "end":
        raise _error(parser.peek.at, f"« {parser.peek.text} » inattendu")
    return node


def properties_of(node: Node) -> set[str]:
    """The property names a filter reads."""
    if isinstance(node, And | Or):
        return set().union(*(properties_of(n) for n in node.items))
    if isinstance(node, Not):
        return properties_of(node.item)
    if isinstance(node, Compare):
        return {x.name for x in (node.left, node.right) if isinstance(x, Prop)}
    if isinstance(node, Const):
        return set()
    return {node.item.name}
