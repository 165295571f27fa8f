"""The seed flow: store the seed articles Vigie was created from, tagged like any article."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger

from db import repo
from flows import context
from flows.alerts import record_run_failure
from flows.parameters import plain_parameters
from flows.pipeline import intents_from_seeds, tag_specs
from flows.report import RunCounts, RunSummary, new_relevant_articles, publish_artifacts, run_name
from flows.settings import get_settings
from parsers.seeds import load_seeds


def store_seeds() -> RunSummary:
    """Load, tag and store the seeds in one transaction; re-running changes nothing."""
    summary = RunSummary(kind="seed", started_at=datetime.now(UTC))
    tagger = context.tagger()
    intents = intents_from_seeds(load_seeds(get_settings().seeds_dir), tagger)
    with context.sessions().begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        policy = context.version_policy()  # the rules file's watches included
        summary.counts = repo.store_articles(session, intents, tag_ids, summary.started_at, policy)
    summary.new_relevant = new_relevant_articles(summary.counts, intents)
    summary.finished_at = datetime.now(UTC)
    return summary


@plain_parameters
@flow(
    name="ingest-seeds",
    flow_run_name=run_name("seeds"),
    on_failure=[record_run_failure],
    on_crashed=[record_run_failure],
)
async def ingest_seeds() -> RunCounts:
    """Store the seed articles.

    Pipeline:
        seeds = seeds/seeds.toml + the seed texts, word for word
        tag each (taxonomy), store article + version 1 + evidence, alert if relevant
        publish the run summary
    """
    context.ensure_schema()
    summary = store_seeds()
    get_run_logger().info(
        "seeds: %d new articles, %d unchanged, %d alerts",
        summary.counts.new_articles,
        summary.counts.unchanged,
        summary.counts.alerts,
    )
    await publish_artifacts(summary, "seeds")
    return summary.as_counts()
