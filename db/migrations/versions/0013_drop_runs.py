"""drop the runs table, which nothing wrote or read

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-07 12:00:00.000000

``runs`` was meant to record each flow run, but no flow ever wrote it (0 rows after 21 flow
runs on a real server with two workers) and no command read it. Prefect records each flow
run (name, id, start, end, state) and each run's counts are its summary artifact, so the
table is dropped rather than kept as a second, partial record. Downgrade recreates it empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.base


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("runs")


def downgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
