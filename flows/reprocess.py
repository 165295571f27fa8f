"""The reprocess flow: re-extract and re-tag stored articles, with no network at all.

Run it after the extractor or the taxonomy changes: archived page bytes are extracted again,
and every current version is tagged with the taxonomy in force.
"""

from __future__ import annotations

import zlib
from collections import Counter

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from db import repo
from db.models import ArticleVersion
from flows import context
from flows.alerts import record_run_failure
from flows.parameters import plain_parameters
from flows.pipeline import tag_specs
from flows.report import in_prefect_run, run_name
from parsers.articles import extract_article
from parsers.exceptions import ParseError
from parsers.tagging import Tagger

#: Versions re-tagged per transaction.
PAGE_SIZE = 200


@task(name="reprocess-page", cache_policy=NO_CACHE)
def reprocess_page(version_ids: list[int]) -> Counter[str]:
    """Re-extract (from archived bytes) and re-tag a page of versions, in one transaction."""
    tagger = context.tagger()
    outcomes: Counter[str] = Counter()
    with context.sessions().begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        for version_id in version_ids:
            version = session.get_one(ArticleVersion, version_id)
            outcomes[_reprocess_one(session, version, tagger, tag_ids)] += 1
    return outcomes


def _reprocess_one(
    session: Session, version: ArticleVersion, tagger: Tagger, tag_ids: dict[str, int]
) -> str:
    title, text = _reextracted(session, version)
    tags = tagger.tag(title, text)
    same_text = (title, text) == (version.title, version.text)
    if same_text and tags.taxonomy_version == version.taxonomy_version:
        return "unchanged"
    became = "relevant" if tags.relevant and not version.relevant else "retagged"
    repo.replace_evidence(session, version, title, text, tags, tag_ids)
    return became if same_text else "re-extracted"


def _reextracted(session: Session, version: ArticleVersion) -> tuple[str, str]:
    raw = repo.raw_of(session, version.id) if version.origin == "page" else None
    if raw is None:
        return version.title, version.text
    headers = {"content-type": raw.content_type} if raw.content_type else {}
    try:
        page = extract_article(raw.url, zlib.decompress(raw.compressed), headers)
    except ParseError:
        return version.title, version.text  # keep what was extracted when it was fetched
    if page.suspect_reason or not page.text:
        return version.title, version.text
    return page.title or version.title, page.text


@plain_parameters
@flow(
    name="reprocess",
    flow_run_name=run_name("reprocess"),
    on_failure=[record_run_failure],
    on_crashed=[record_run_failure],
)
async def reprocess() -> dict[str, int]:
    """Re-extract and re-tag every article's current version; fetches nothing.

    Pipeline:
        for each page of current versions:
            raw bytes (archived) -> extraction -> tagging with the current taxonomy
            replace text and evidence where they changed     -- one transaction per page
    """
    context.ensure_schema()
    with context.sessions().begin() as session:
        ids = repo.current_version_ids(session)
    outcomes: Counter[str] = Counter()
    for start in range(0, len(ids), PAGE_SIZE):
        outcomes += reprocess_page(ids[start : start + PAGE_SIZE])
    counts = {"versions": len(ids), **outcomes}
    get_run_logger().info("reprocess: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    if in_prefect_run():
        rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(counts.items()))
        await acreate_markdown_artifact(
            f"# Vigie reprocess run\n\n| outcome | versions |\n|---|---:|\n{rows}\n",
            key="reprocess-summary",
        )
    return counts
