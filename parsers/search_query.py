"""Vigie's search syntax, parsed once and written for SQLite FTS5 and PostgreSQL tsquery.

A query is words (all must appear), "quoted phrases", ``OR``, ``NOT`` (``asile NOT Roxham``),
``NEAR/n`` between two words or phrases (at most n words apart, either order; ``NEAR`` alone
is ``NEAR/10``) and parentheses. Words go through ``parsers.search_text`` as the indexed
text did, so "Quebec" finds "Québec" and "demandeur d'asile" finds "demandeurs d'asile".

The tree compiles to an FTS5 ``MATCH`` expression and to a ``tsquery``; tsquery has no
unordered proximity, so ``a NEAR/n b`` becomes every ``<k>`` distance from 1 to n+1 in both
orders, which is what FTS5's NEAR means (at most n words between the two phrases).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from parsers.exceptions import ConfigError
from parsers.search_text import terms

#: ``NEAR`` without a distance.
DEFAULT_NEAR = 10
#: The largest distance NEAR accepts: tsquery spells each distance out.
MAX_NEAR = 50
#: Longest query accepted, in characters.
MAX_QUERY_CHARS = 1_000

_TOKEN = re.compile(r'\s*(?:(")(?P<phrase>[^"]*)"?|(?P<paren>[()])|(?P<word>[^\s()"]+))')
_NEAR = re.compile(r"NEAR(?:/(\d+))?")


class QueryError(ConfigError):
    """A search query that cannot be read, with what to write instead."""


@dataclass(frozen=True)
class Phrase:
    """Terms that must appear in this order, next to each other (one term: a word)."""

    terms: tuple[str, ...]


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """``left`` without ``right``."""

    left: Node
    right: Node


@dataclass(frozen=True)
class Near:
    left: Phrase
    right: Phrase
    distance: int


Node = Phrase | And | Or | Not | Near


def parse(query: str) -> Node:
    """The query's tree; ``QueryError`` says what is wrong and how to write it."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    parser = _Parser(list(_lex(query)))
    if not parser.items:
        raise QueryError("the query has no words to search for")
    node = parser.or_expr()
    if parser.position < len(parser.items):
        raise QueryError(f"unexpected {parser.items[parser.position][1]!r} in the query")
    return node


def _lex(query: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs: phrase, word, op (AND OR NOT NEAR/n) or ( and )."""
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:  # only trailing spaces are left
            return
        position = match.end()
        if match.group(1):
            yield "phrase", match.group("phrase")
        elif match.group("paren"):
            yield match.group("paren"), match.group("paren")
        elif match.group("word"):
            word = match.group("word")
            kind = "op" if word in ("AND", "OR", "NOT") or _NEAR.fullmatch(word) else "word"
            yield kind, word


class _Parser:
    """Precedence, loosest first: OR, AND (also implicit), NOT, NEAR."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items
        self.position = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def _is_op(self, *names: str) -> bool:
        item = self._peek()
        return item is not None and item[0] == "op" and item[1].split("/")[0] in names

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self._is_op("OR"):
            self.position += 1
            node = Or(node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while (item := self._peek()) is not None and item[0] != ")" and not self._is_op("OR"):
            if self._is_op("AND"):
                self.position += 1
            node = And(node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        node = self.near_expr()
        while self._is_op("NOT"):
            self.position += 1
            node = Not(node, self.near_expr())
        return node

    def near_expr(self) -> Node:
        node = self.primary()
        if not self._is_op("NEAR"):
            return node
        operator = self.items[self.position][1]
        self.position += 1
        right = self.primary()
        if not isinstance(node, Phrase) or not isinstance(right, Phrase):
            raise QueryError(
                "NEAR joins two words or quoted phrases, as in: Roxham NEAR/10 fermeture"
            )
        return Near(node, right, _distance(operator))

    def primary(self) -> Node:
        item = self._peek()
        if item is None:
            last = self.items[-1]
            after = f" after {last[1]}" if last[0] == "op" else ""
            raise QueryError(f"the query ends{after} where a word was expected")
        kind, text = item
        self.position += 1
        if kind == "(":
            node = self.or_expr()
            if self._peek() != (")", ")"):
                raise QueryError("a parenthesis is not closed")
            self.position += 1
            return node
        if kind in ("word", "phrase"):
            found = tuple(terms(text))
            if not found:
                raise QueryError(f"{text!r} has no letters or digits to search for")
            return Phrase(found)
        if kind == ")":
            raise QueryError("a closing parenthesis has no opening one")
        example = "asile NOT Roxham" if text == "NOT" else "asile OR refuge"
        raise QueryError(f"{text} needs a word on each side, as in: {example}")


def _distance(operator: str) -> int:
    _, _, digits = operator.partition("/")
    distance = int(digits) if digits else DEFAULT_NEAR
    if distance > MAX_NEAR:
        raise QueryError(f"NEAR/{distance} is too far apart: at most NEAR/{MAX_NEAR}")
    return distance


# --- compiling -------------------------------------------------------------------------------


def to_fts5(node: Node) -> str:
    """The query as an SQLite FTS5 ``MATCH`` expression over the indexed terms."""
    if isinstance(node, Phrase):
        return _fts5_phrase(node)
    if isinstance(node, Near):
        return f"NEAR({_fts5_phrase(node.left)} {_fts5_phrase(node.right)}, {node.distance})"
    operator = {And: "AND", Or: "OR", Not: "NOT"}[type(node)]
    return f"({to_fts5(node.left)} {operator} {to_fts5(node.right)})"


def _fts5_phrase(phrase: Phrase) -> str:
    # Terms are letters and digits only, so quoting cannot be broken out of.
    return '"' + " ".join(phrase.terms) + '"'


def to_tsquery(node: Node) -> str:
    """The query as a PostgreSQL ``tsquery`` over the indexed terms (cast, not parsed)."""
    if isinstance(node, Phrase):
        return _ts_phrase(node)
    if isinstance(node, Near):
        left, right = _ts_phrase(node.left), _ts_phrase(node.right)
        gaps = range(1, node.distance + 2)
        either = [f"{a} <{k}> {b}" for a, b in ((left, right), (right, left)) for k in gaps]
        return "(" + " | ".join(either) + ")"
    if isinstance(node, Not):
        return f"({to_tsquery(node.left)} & !{to_tsquery(node.right)})"
    operator = "&" if isinstance(node, And) else "|"
    return f"({to_tsquery(node.left)} {operator} {to_tsquery(node.right)})"


def _ts_phrase(phrase: Phrase) -> str:
    quoted = " <-> ".join(f"'{term}'" for term in phrase.terms)
    return f"({quoted})" if len(phrase.terms) > 1 else quoted


def positive_terms(node: Node) -> frozenset[str]:
    """The terms a match may contain (not those after NOT): what a snippet highlights."""
    if isinstance(node, Phrase):
        return frozenset(node.terms)
    if isinstance(node, Near):
        return frozenset(node.left.terms + node.right.terms)
    if isinstance(node, Not):
        return positive_terms(node.left)
    return positive_terms(node.left) | positive_terms(node.right)
