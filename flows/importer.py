"""Import local article files through the pipeline that feed entries go through.

Pipeline:
    files = the paths given, folders walked (hidden files skipped), in path order
    per chunk of files:
        each file: read, parse (parsers.documents), tag -> ArticleIntent, origin "import"
            (a file that cannot be read or parsed is reported with its reason; the rest go on)
        one transaction: store (repo.store_articles), file the article in its story cluster
            (db.story_filing.assign), write the cluster's growth alert if it is due

Re-importing the same files changes nothing: an article's identity is its canonical URL, or
for a file without one a URN made from its content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import repo, story_queries
from db.intents import ArticleIntent, StoreCounts
from db.models import Article, ArticleVersion
from flows.pipeline import tag_specs
from parsers.documents import ImportedDocument, parse_document
from parsers.exceptions import ParseError
from parsers.language import detect_language
from parsers.tagging import Tagger
from parsers.urls import host_of, site_of

#: Files stored per transaction: a failure late in a big import keeps the earlier chunks.
CHUNK_FILES = 50

Status = Literal["new", "updated", "unchanged", "duplicate", "failed"]


@dataclass(frozen=True)
class ImportOutcome:
    """What importing one file did."""

    #: The file.
    path: Path
    #: new, updated (a new version), unchanged, duplicate (the text is stored under another
    #: URL already) or failed.
    status: Status
    #: The stored article the file is (or duplicates).
    article_id: int | None = None
    #: The story cluster the article belongs to.
    cluster_id: int | None = None
    #: Why the file could not be imported, naming the file.
    reason: str | None = None


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """The files to import: each file given, and every non-hidden file under each folder."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)))
        else:
            found.append(path)  # a missing file is reported when it is read
    return list(dict.fromkeys(found))


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def read_document(path: Path) -> ImportedDocument:
    """Read and parse one file; ``ParseError`` names the file and says what is wrong."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    return parse_document(str(path), content)


def _site(url: str) -> str:
    return site_of(url) if url.startswith(("http://", "https://")) else ""


def intent_from_document(document: ImportedDocument, tagger: Tagger) -> ArticleIntent:
    """A parsed file, tagged, ready to store like any article."""
    url = document.canonical_url
    return ArticleIntent(
        canonical_url=url,
        url=document.url or url,
        title=document.title,
        text=document.text,
        content_hash=document.content_hash,
        language=detect_language(f"{document.title}\n{document.text}", document.language),
        published_at=document.published_at,
        # Undeclared, the source is the site the file came from, else the file's name.
        source=document.source or _site(url) or Path(document.name).name,
        site=host_of(url) or "import",
        origin="import",
        tags=tagger.tag(document.title, document.text),
    )


def import_files(
    files: Sequence[Path],
    *,
    sessions: sessionmaker[Session],
    tagger: Tagger,
    now: datetime,
    advance: Callable[[int], None] | None = None,
) -> list[ImportOutcome]:
    """Import files in chunks, one transaction each; ``advance(n)`` after each chunk."""
    outcomes: list[ImportOutcome] = []
    for start in range(0, len(files), CHUNK_FILES):
        chunk = files[start : start + CHUNK_FILES]
        outcomes.extend(_import_chunk(chunk, sessions, tagger, now))
        if advance is not None:
            advance(len(chunk))
    return outcomes


def _import_chunk(
    files: Sequence[Path], sessions: sessionmaker[Session], tagger: Tagger, now: datetime
) -> list[ImportOutcome]:
    parsed: list[tuple[Path, ArticleIntent] | ImportOutcome] = []
    for path in files:
        try:
            parsed.append((path, intent_from_document(read_document(path), tagger)))
        except ParseError as exc:
            parsed.append(ImportOutcome(path, "failed", reason=str(exc)))
    with sessions.begin() as session:
        tag_ids = repo.sync_tags(session, tag_specs(tagger.taxonomy))
        return [
            item if isinstance(item, ImportOutcome) else _store(session, *item, tag_ids, now)
            for item in parsed
        ]


def _store(
    session: Session,
    path: Path,
    intent: ArticleIntent,
    tag_ids: Mapping[str, int],
    now: datetime,
) -> ImportOutcome:
    counts = repo.store_articles(session, [intent], tag_ids, now)
    status = _status(counts)
    article_id = _article_id(session, intent.canonical_url)
    if article_id is None:  # stored under another URL already: that article is this one
        return ImportOutcome(path, status, _article_with_text(session, intent.content_hash))
    # The store path files relevant articles in their story; others have none.
    story = story_queries.cluster_of(session, article_id)
    return ImportOutcome(path, status, article_id, story.id if story else None)


def _status(counts: StoreCounts) -> Status:
    if counts.new_articles:
        return "new"
    if counts.new_versions:
        return "updated"
    return "duplicate" if counts.duplicates else "unchanged"


def _article_id(session: Session, canonical_url: str) -> int | None:
    query = select(Article.id).where(Article.canonical_url == canonical_url)
    return session.scalars(query).one_or_none()


def _article_with_text(session: Session, text_hash: str) -> int | None:
    query = (
        select(ArticleVersion.article_id)
        .where(ArticleVersion.content_hash == text_hash)
        .order_by(ArticleVersion.article_id)
        .limit(1)
    )
    return session.scalars(query).first()
