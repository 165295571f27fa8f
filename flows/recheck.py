"""The re-check flow: fetch watched article pages again and version what their publishers edit."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from db import repo
from db.intents import ArticleIntent, RecheckTarget
from db.repo import RecheckResult
from db.versions import EditView, VersionPolicy, latest_edits
from fetching.fetcher import Fetcher, FetchPolicy
from flows import context
from flows.alerts import deliver_after_run, record_run_failure
from flows.cpu import CpuPool, unreadable
from flows.parameters import plain_parameters
from flows.pipeline import tag_specs
from flows.quoting import quoted
from flows.report import in_prefect_run, open_link, rename_run, run_name, run_title
from flows.settings import get_settings
from parsers.exceptions import FetchError, ParseError
from parsers.inert import clean, md_cell, md_line
from parsers.text import counted

#: What a re-check of one page gave: a candidate version, nothing (304), or an error.
Checked = tuple[RecheckTarget, ArticleIntent | None, str | None]
#: The outcome of a page the pass had no time for: not recorded, so it stays due.
POSTPONED = "postponed"


@task(name="fetch-article-pages", cache_policy=NO_CACHE)
async def fetch_and_extract(
    targets: list[RecheckTarget], fetcher: Fetcher, cpu: CpuPool, deadline: float
) -> tuple[list[Checked], list[RecheckTarget]]:
    """Conditional GET of each page, concurrently (politeness is the fetcher's job), and
    extraction of those that changed, in the worker processes; and the pages not checked
    by ``deadline`` (a ``loop.time()``), which stay due."""
    checks = await asyncio.gather(*(_check(target, fetcher, cpu, deadline) for target in targets))
    done = [check for check in checks if check is not None]
    left = [target for target, check in zip(targets, checks, strict=True) if check is None]
    return done, left


async def _check(
    target: RecheckTarget, fetcher: Fetcher, cpu: CpuPool, deadline: float
) -> Checked | None:
    """What re-checking ``target`` gave; None when the deadline came first."""
    try:
        async with asyncio.timeout_at(deadline):
            result = await fetcher.fetch(
                target.url,
                etag=target.page_etag,
                last_modified=target.page_last_modified,
                kind="page",
            )
            if result.not_modified:
                return target, None, None
            intent = await cpu.recheck(
                target, result.final_url, result.content, result.headers, context.tagger()
            )
    except TimeoutError:
        return None
    except (FetchError, ParseError) as exc:
        return target, None, str(exc)
    except Exception as exc:  # one page a library chokes on fails alone, with the reason
        return target, None, str(unreadable(exc))
    return target, intent, None


@task(name="store-rechecks", cache_policy=NO_CACHE)
def store_rechecks(checked: list[Checked]) -> tuple[Counter[str], list[int]]:
    """Version what changed, one transaction per article; count the outcomes, and list the
    articles that got a new version.

    A page whose version the database refuses is recorded as a failed re-check with the
    reason; when the database itself fails, the article is left as it was (still due).
    """
    tagger = context.tagger()
    outcomes: Counter[str] = Counter()
    changed: list[int] = []
    policy = context.version_policy()
    with context.sessions().begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
    for target, intent, error in checked:
        try:
            result = _record(target, intent, tag_ids, error, policy)
        except (DataError, IntegrityError) as exc:
            reason = clean(exc.orig, 300)
            result = _record(target, None, tag_ids, f"the database refused it: {reason}", policy)
        except (SQLAlchemyError, OSError) as exc:
            reason = clean(getattr(exc, "orig", None) or exc, 300)
            get_run_logger().warning(
                "article %d not re-checked: Vigie's database failed (%s); it stays due",
                target.id,
                reason,
            )
            outcomes[POSTPONED] += 1
            continue
        outcomes[result.outcome] += 1
        if result.alerted:
            outcomes["alert"] += 1
        if result.outcome == "changed":
            changed.append(target.id)
    return outcomes, changed


def _record(
    target: RecheckTarget,
    intent: ArticleIntent | None,
    tag_ids: dict[str, int],
    error: str | None,
    policy: VersionPolicy,
) -> RecheckResult:
    with context.sessions().begin() as session:
        now = datetime.now(UTC)
        return repo.record_recheck(
            session, target, intent, tag_ids, now, error=error, policy=policy
        )


@plain_parameters
@flow(
    name="recheck-articles",
    flow_run_name=run_name("recheck"),
    on_failure=[record_run_failure],
    on_crashed=[record_run_failure],
)
async def recheck_articles(due_only: bool = True, limit: int = 500) -> dict[str, Any]:
    """Fetch watched article pages again to catch quiet edits.

    Pipeline:
        targets = articles whose re-check is due (schedule thins out with age, then stops)
        conditional GET of each page, extraction of changed ones in the worker processes
                                                            -- fetch-article-pages task
        decide new/changed/unchanged/suspect against the current version; store a version,
          its diff and change kinds, and one edit alert if material  -- store-rechecks task
        deliver the alerts that are due (VIGIE_DELIVER_AFTER_RUN, when a channel is set)
        log a warning per page that failed, with its article and reason

    Returns the outcome counts (``checked``, ``changed``, ``failed``, …) and, under
    ``failures``, each failed page as ``{"article_id", "url", "error"}``.
    """
    context.ensure_schema()
    started_at = datetime.now(UTC)
    with context.sessions().begin() as session:
        targets = repo.articles_to_recheck(session, started_at, due_only=due_only, limit=limit)
    settings = get_settings()
    cpu = context.cpu_pool()
    deadline = asyncio.get_running_loop().time() + settings.pass_deadline_seconds
    async with context.fetcher(FetchPolicy.from_settings(settings)) as fetcher, cpu:
        checked, left = await fetch_and_extract(quoted(targets), fetcher, cpu, deadline)
    outcomes, changed = store_rechecks(quoted(checked))
    delivery = await deliver_after_run()
    if left:
        outcomes[POSTPONED] += len(left)
        get_run_logger().warning(
            "%d pages not re-checked: the pass reached its deadline (%g s, "
            "VIGIE_PASS_DEADLINE_SECONDS); they stay due",
            len(left),
            settings.pass_deadline_seconds,
        )
    counts = {"checked": len(targets) - outcomes[POSTPONED], **outcomes}
    if delivery is not None:
        counts["alerts_sent"] = delivery.count("sent")
    failures = [
        {"article_id": target.id, "url": target.url, "error": error}
        for target, _intent, error in checked
        if error
    ]
    _log_summary(counts, failures)
    if in_prefect_run():
        with context.sessions().begin() as session:
            edits = latest_edits(session, changed)
        await acreate_markdown_artifact(
            _summary(counts, edits, failures), key="recheck-summary", description="Run summary"
        )
        await rename_run(run_title("recheck", started_at, _findings(counts)))
    return {**counts, "failures": failures}


def _findings(counts: dict[str, int]) -> list[str]:
    found = [f"{counts['checked']} checked", counted(counts.get("changed", 0), "edit")]
    if counts.get("failed"):
        found.append(f"{counts['failed']} failed")
    return found


def _log_summary(counts: dict[str, int], failures: list[dict[str, Any]]) -> None:
    logger = get_run_logger()
    logger.info("recheck: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    for failure in failures:
        logger.warning(
            "article %d (%s) re-check failed: %s",
            failure["article_id"],
            clean(failure["url"]),
            clean(failure["error"]),
        )


def _summary(counts: dict[str, int], edits: list[EditView], failures: list[dict[str, Any]]) -> str:
    """The re-check's one summary: each edit (title as link, outlet, change kinds, diff
    excerpt), then the failed pages with their reasons, then the counts."""
    lines = ["# Vigie re-check run", ""]
    lines += _edits_section(edits)
    if failures:
        lines += ["## Failed re-checks", "", "| article | page | reason |", "|---:|---|---|"]
        lines += [
            f"| {f['article_id']} | {md_cell(f['url'], 200)} | {md_cell(f['error'], 300)} |"
            for f in failures
        ]
        lines.append("")
    lines += ["## Counts", "", "| outcome | articles |", "|---|---:|"]
    lines += [f"| {name} | {count} |" for name, count in sorted(counts.items())]
    return "\n".join(lines) + "\n"


def _edits_section(edits: list[EditView]) -> list[str]:
    if not edits:
        return ["No page was edited since it was last read.", ""]
    lines = [f"## Edits ({len(edits)})", ""]
    for edit in edits:
        kinds = ", ".join(kind.replace("_", " ") for kind in edit.change_kinds) or "changed"
        lines += [
            f"### {md_line(edit.title or '(untitled)', 200)}",
            "",
            f"{md_line(edit.source, 60)} · version {edit.version} · {md_line(kinds, 200)} · "
            f"{open_link(edit.url)}`vigie diff {edit.article_id}`",
            "",
        ]
        if edit.excerpt:
            lines += [f"> {md_line(edit.excerpt, 600)}", ""]
    return lines
