"""stored MinHash signatures and LSH keys made again, by rensa instead of datasketch

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 15:00:00.000000

A signature is only comparable with signatures made by the same MinHash. The new one gives
other values for the same text, so a stored article would never share an LSH key with a
copy arriving after the upgrade. Every stored signature is therefore made again from its
article's current text, and the article's keys with it. Cluster memberships stay as they
are: they were decided under the old signatures, and the new ones estimate the same
similarities.

Signatures are made by the code in ``parsers.dedup`` at the time of the upgrade, which is
what new articles will be compared with. There is no way back: downgrading keeps the new
signatures, which the older code cannot compare with its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from parsers import dedup


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Articles re-signed per round trip.
_CHUNK = 500

_signatures = sa.table(
    "article_signatures",
    sa.column("article_id", sa.BigInteger),
    sa.column("minhash", sa.LargeBinary),
    sa.column("words", sa.Integer),
    sa.column("normalised_title", sa.Text),
    sa.column("language", sa.String),
)
_bands = sa.table(
    "lsh_bands",
    sa.column("article_id", sa.BigInteger),
    sa.column("band", sa.SmallInteger),
    sa.column("hash", sa.BigInteger),
)
_articles = sa.table(
    "articles", sa.column("id", sa.BigInteger), sa.column("current_version_id", sa.BigInteger)
)
_versions = sa.table("article_versions", sa.column("id", sa.BigInteger), sa.column("text", sa.Text))


def upgrade() -> None:
    connection = op.get_bind()
    after = 0
    while rows := connection.execute(_chunk_after(after)).all():
        _resign(connection, rows)
        after = rows[-1].article_id


def downgrade() -> None:
    pass  # see the module docstring


def _chunk_after(article_id: int) -> sa.Select[tuple[int, str, str, str]]:
    return (
        sa.select(
            _signatures.c.article_id,
            _signatures.c.normalised_title,
            _signatures.c.language,
            _versions.c.text,
        )
        .join(_articles, _articles.c.id == _signatures.c.article_id)
        .join(_versions, _versions.c.id == _articles.c.current_version_id)
        .where(_signatures.c.article_id > article_id)
        .order_by(_signatures.c.article_id)
        .limit(_CHUNK)
    )


def _resign(connection: sa.Connection, rows: Sequence[sa.Row[tuple[int, str, str, str]]]) -> None:
    signatures, keys = [], []
    for row in rows:
        sketch = dedup.sketch(row.text)
        fingerprint = dedup.Fingerprint(
            signature=sketch.signature,
            words=sketch.words,
            normalised_title=row.normalised_title,
            language=row.language,
            seen_at=datetime.now(UTC),  # band keys do not depend on it
        )
        signatures.append(
            {"id": row.article_id, "minhash": sketch.signature, "words": sketch.words}
        )
        keys += [
            {"article_id": row.article_id, "band": key.band, "hash": key.hash}
            for key in dedup.band_keys(fingerprint)
        ]
    connection.execute(
        _signatures.update()
        .where(_signatures.c.article_id == sa.bindparam("id"))
        .values(minhash=sa.bindparam("minhash"), words=sa.bindparam("words")),
        signatures,
    )
    ids = [row.article_id for row in rows]
    connection.execute(_bands.delete().where(_bands.c.article_id.in_(ids)))
    if keys:
        connection.execute(_bands.insert(), keys)
