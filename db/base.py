"""Declarative base of the ORM classes, over the tables of ``db.schema``."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase

from db.schema import MENTION_FIELDS as MENTION_FIELDS
from db.schema import NAMING_CONVENTION as NAMING_CONVENTION
from db.schema import BigId as BigId
from db.schema import FieldCode as FieldCode
from db.schema import UTCDateTime as UTCDateTime  # the migrations name it db.base.UTCDateTime
from db.schema import dialect_name as dialect_name
from db.schema import metadata


class Base(DeclarativeBase):
    """Base of every Vigie ORM class; each maps a table of ``db.schema`` (``__table__``)."""

    metadata = metadata


def core_table(model: type[Base]) -> Table:
    """A model's Core table: plain-row statements on it skip the ORM's per-row bookkeeping
    (about 5x faster for evidence rows) and, with bound parameters, compile once."""
    return cast(Table, model.__table__)
