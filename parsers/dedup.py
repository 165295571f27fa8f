"""Near-duplicate articles: word shingles, MinHash signatures, LSH band keys and the verdict.

One Canadian Press story runs on CTV, Global, the National Post and the aggregators, each
under its own URL and with its own furniture ("This report by The Canadian Press was first
published...", "Article content", "Trending now"). The exact content hash cannot see that
those copies are one story; their word shingles can.

How two texts are compared
--------------------------
* **Shingles.** Each paragraph is normalised (``normalise_for_hash``: folded, punctuation
  gone) and cut into overlapping runs of ``SHINGLE_WORDS`` words. Shingles stop at
  paragraph breaks: a furniture line an outlet slips between two paragraphs then costs one
  shingle of its own instead of also breaking the ``SHINGLE_WORDS - 1`` shingles that
  would have spanned the break, and a line repeated after every paragraph counts once.
* **Signature.** A rensa ``RMinHash`` (seed ``MINHASH_SEED``, ``NUM_PERM`` permutations)
  of the shingle set; stored as ``NUM_PERM`` little-endian uint32 values.
  ``estimated_jaccard`` is the share of equal positions.
* **LSH.** The signature is cut into ``BANDS`` bands of ``ROWS`` rows; each band becomes a
  signed 64-bit key, a BLAKE2b hash of the language, the band number and the band's bytes,
  so keys are the same in every process and on every run (Python's ``hash`` is not). Two
  texts share at least one key with probability ``1 - (1 - J**ROWS)**BANDS``: 0.997 at
  Jaccard 0.8, 0.85 at 0.7, 0.12 at 0.5 and 0.002 at 0.3. Sharing a key only makes a
  candidate: the verdict is the estimated Jaccard against the threshold.
* **Length ratio.** Jaccard can never exceed ``min(|A|, |B|) / max(|A|, |B|)``, so texts
  whose lengths differ more than the threshold allows are rejected before any comparison.
* **Passages.** Editors rework wire copy by whole paragraphs: a new lede, a cut ending, an
  inserted paragraph, a photo caption, another headline. Each paragraph of at least
  ``PASSAGE_MIN_WORDS`` words is a passage, kept as a 64-bit hash of its normalised words
  (``passages``), with a second hash of its *shape*: its words without the names and figures
  (capitalised words, words with a digit).
  Two texts also match when they share at least ``MIN_SHARED_PASSAGES`` passages making up
  ``PASSAGE_THRESHOLD`` of the smaller one's (containment, not Jaccard: a copy cut to its
  first half shares all of its passages), unless a passage of one has the shape of a
  passage of the other with other names or figures. That is what templated texts look like
  (weather, scores, markets: the same sentences around other places, teams and numbers),
  and what two stories with different figures are.
* **Short texts.** Below ``SHORT_TEXT_WORDS`` words (feed summaries, briefs) shingles say
  little. Such a text matches another article when their normalised titles are equal
  (after the outlet's own suffix, "... - CTV News", is cut) and they appeared within
  ``DEFAULT_TITLE_WINDOW`` of each other. The title is one more key, in band ``TITLE_BAND``.

Texts in different languages are never compared: a French translation is another article.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from rensa import RMinHash

from parsers.text import normalise_for_hash
from parsers.urls import site_of

#: Words per shingle. Four keeps a reworded sentence from costing much more than itself,
#: while shared stock phrases ("the federal government said") stay rare as whole shingles.
SHINGLE_WORDS = 4
#: MinHash permutations; the estimate's standard error at Jaccard 0.8 is about 0.025.
NUM_PERM = 256
#: LSH bands and rows per band (``BANDS * ROWS == NUM_PERM``); see the module docstring.
BANDS = 32
ROWS = 8
#: Seed of the MinHash permutations. Changing it (or NUM_PERM, or rensa's algorithm)
#: makes every stored signature incomparable: the golden test in tests/test_dedup.py guards it.
MINHASH_SEED = 20261122
#: Band number of the title key used by the short-text rule.
TITLE_BAND = -1
#: Estimated Jaccard at or above which two texts are one story.
DEFAULT_THRESHOLD = 0.8
#: Texts with fewer words are compared by title, not by shingles.
SHORT_TEXT_WORDS = 50
#: Titles with fewer words are too generic ("Live updates") to match on their own.
MIN_TITLE_WORDS = 4
#: How far apart two short items with the same title may appear and still be one story.
DEFAULT_TITLE_WINDOW = timedelta(hours=48)
#: Paragraphs with fewer words are not passages: captions, credits and bylines vary by outlet.
PASSAGE_MIN_WORDS = 8
#: Passages two texts must share, at the least, to match by passages.
MIN_SHARED_PASSAGES = 3
#: Share of the smaller text's passages the two must share to match by passages.
PASSAGE_THRESHOLD = 0.6
#: Stands for an unknown language, so that texts of unknown language only meet each other.
UNKNOWN_LANGUAGE = "und"

_SIGNATURE = struct.Struct(f"<{NUM_PERM}I")
_PARAGRAPH = re.compile(r"\n\s*")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—]\s+")
_KEY_PERSON = b"vigie-lsh"
_PASSAGE_PERSON = b"vigie-passage"
_DIGIT = re.compile(r"\d")
_OPENING = "«“\"'(¿¡—–-"


@dataclass(frozen=True)
class BandKey:
    """One LSH key: articles sharing a key are candidate near-duplicates."""

    #: Band number, 0 to ``BANDS - 1``, or ``TITLE_BAND`` for the normalised title.
    band: int
    #: Signed 64-bit BLAKE2b hash of the language, the band number and the band's content.
    hash: int


class Passage(NamedTuple):
    """One paragraph as the passage rule compares it.

    A named tuple: a relevant article's passages cross from the worker process that read it
    to the run's process in its sketch, where a tuple is one object to unpickle, not two.
    """

    #: Signed 64-bit hash of the paragraph's normalised words.
    hash: int
    #: The same without names and figures: equal shapes and unequal hashes are one template
    #: filled with other names or figures.
    shape: int


@dataclass(frozen=True)
class TextSketch:
    """The part of a fingerprint that depends on the text alone, and costs the most to make.

    Made where the text was read (a worker process, ``flows.pipeline.sketched``), so that
    the storing process only files it.
    """

    #: MinHash signature: ``NUM_PERM`` little-endian uint32 values.
    signature: bytes
    #: Words in the normalised text.
    words: int
    #: ``content_hash`` of the article the sketch was made for. A text replaced after the
    #: sketch was made has another hash (unless only its spacing changed), so it is
    #: sketched again instead of filed by the old text's sketch (``sketch_for``).
    content_hash: str
    #: The text's passages (``passages``).
    passages: tuple[Passage, ...] = ()


@dataclass(frozen=True)
class Fingerprint:
    """What near-duplicate detection knows of one article; computed or read from storage."""

    #: MinHash signature: ``NUM_PERM`` little-endian uint32 values.
    signature: bytes
    #: Words in the normalised text.
    words: int
    #: Normalised title without the outlet's suffix ("" when there is no title).
    normalised_title: str
    #: Primary language subtag, or ``UNKNOWN_LANGUAGE``.
    language: str
    #: When the story appeared (published, else first seen), for the short-text window.
    seen_at: datetime
    #: The text's passages (``passages``); empty for texts sketched before they were kept.
    passages: tuple[Passage, ...] = ()

    @property
    def short(self) -> bool:
        """Too short for shingles: compared by title instead."""
        return self.words < SHORT_TEXT_WORDS


@dataclass(frozen=True)
class Match:
    """Why two articles are one story."""

    #: Estimated Jaccard of the texts, the share of the smaller text's passages shared
    #: (passage rule), or 1.0 for equal titles (short-text rule).
    similarity: float
    #: "text" (shingles), "passages" or "title" (short-text rule).
    basis: Literal["text", "passages", "title"]


# --- fingerprints ------------------------------------------------------------------------


def fingerprint(
    title: str,
    text: str,
    *,
    language: str | None,
    outlet: str,
    seen_at: datetime,
    sketched: TextSketch | None = None,
) -> Fingerprint:
    """The fingerprint of one article's title and text; ``sketched`` is ``text``'s sketch
    when it was made already."""
    known = sketched or sketch(text)
    return Fingerprint(
        signature=known.signature,
        words=known.words,
        normalised_title=normalised_title(title, outlet),
        language=language_key(language),
        seen_at=seen_at,
        passages=known.passages,
    )


def sketch(text: str, content_hash: str = "") -> TextSketch:
    """The sketch of a text; ``content_hash`` is that of the article it is made for."""
    raw = _PARAGRAPH.split(text)
    paragraphs = [normalise_for_hash(p) for p in raw]
    words = [p.split() for p in paragraphs]  # split once for the shingles and the count
    return TextSketch(
        signature=signature(_shingles_of(words)),
        words=sum(map(len, words)),
        content_hash=content_hash,
        passages=passages(raw, paragraphs),
    )


def sketch_for(content_hash: str, sketched: TextSketch | None) -> TextSketch | None:
    """``sketched`` if it was made for the article whose content hash is ``content_hash``."""
    return sketched if sketched is not None and sketched.content_hash == content_hash else None


def normalised_paragraphs(text: str) -> list[str]:
    """The text's paragraphs (lines), each normalised as ``normalise_for_hash`` does."""
    return [normalise_for_hash(p) for p in _PARAGRAPH.split(text)]


def shingles(paragraphs: Sequence[str]) -> set[bytes]:
    """Word shingles of normalised paragraphs, as UTF-8 bytes; a short paragraph is one."""
    return _shingles_of([paragraph.split() for paragraph in paragraphs])


def _shingles_of(paragraphs: Sequence[list[str]]) -> set[bytes]:
    """``shingles`` of paragraphs already split into words."""
    found: set[bytes] = set()
    for words in paragraphs:
        if not words:
            continue
        last_start = max(len(words) - SHINGLE_WORDS, 0)
        found.update(" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(last_start + 1))
    return found


def passages(
    paragraphs: Sequence[str], normalised: Sequence[str] | None = None
) -> tuple[Passage, ...]:
    """The passages of a text's paragraphs (as written): each distinct one long enough.

    ``normalised``: the same paragraphs normalised (``normalise_for_hash``), when they were.
    """
    found: dict[int, Passage] = {}
    if normalised is None:
        normalised = [normalise_for_hash(p) for p in paragraphs]
    for paragraph, words in zip(paragraphs, normalised, strict=True):
        if words.count(" ") + 1 >= PASSAGE_MIN_WORDS:
            exact = _passage_hash(words)
            shape = " ".join(_without_names_or_figures(paragraph)).lower()
            found.setdefault(exact, Passage(exact, _passage_hash(shape)))
    return tuple(found.values())


def _without_names_or_figures(paragraph: str) -> list[str]:
    """The words of a paragraph but names and figures: capitalised, or holding a digit.

    Words as written, punctuation and all: a shape is only ever compared with shapes.
    """
    if _DIGIT.search(paragraph) is None:  # most paragraphs: no word to search for a digit
        return [word for word in paragraph.split() if not word.lstrip(_OPENING)[:1].isupper()]
    return [
        word
        for word in paragraph.split()
        if not (word.lstrip(_OPENING)[:1].isupper() or _DIGIT.search(word))
    ]


def text_passages(text: str) -> tuple[Passage, ...]:
    """The passages of a text (``passages``)."""
    return passages(_PARAGRAPH.split(text))


def _passage_hash(paragraph: str) -> int:
    digest = hashlib.blake2b(paragraph.encode(), digest_size=8, person=_PASSAGE_PERSON)
    return int.from_bytes(digest.digest(), "big", signed=True)  # a BIGINT column holds it


def signature(shingle_set: set[bytes]) -> bytes:
    """MinHash signature of a shingle set, as bytes (see ``Fingerprint.signature``)."""
    minhash = RMinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)
    minhash.update(list(shingle_set))  # the digest does not depend on the tokens' order
    return _SIGNATURE.pack(*minhash.digest())


def language_key(language: str | None) -> str:
    """The language as fingerprints store it."""
    return (language or UNKNOWN_LANGUAGE).lower()


def normalised_title(title: str, outlet: str) -> str:
    """The title as the short-text rule compares it: normalised, the outlet's suffix cut."""
    parts = _TITLE_SEPARATORS.split(title.strip())
    if len(parts) > 1 and _names_outlet(parts[-1], outlet):
        parts = parts[:-1]
    return normalise_for_hash(" ".join(parts))


def _names_outlet(segment: str, outlet: str) -> bool:
    # "CTV News" names "ctvnews.ca" and "Globalnews.ca" names "Global News": compare with
    # spaces and dots gone.
    squeezed = normalise_for_hash(segment).replace(" ", "")
    name = normalise_for_hash(outlet).replace(" ", "")
    return len(squeezed) >= 3 and bool(name) and (squeezed in name or name in squeezed)


def outlet_of(canonical_url: str, source: str) -> str:
    """The outlet an article counts for: the site of a web URL, else its source's name.

    Sites, not feed names: CTV's politics and national feeds are one outlet.
    """
    if canonical_url.startswith(("http://", "https://")):
        site = site_of(canonical_url)
        if site:
            return site
    return source


def outlet_name(canonical_url: str, source: str | None) -> str:
    """How people see an outlet: the feed's or source's name, the site where there is none.

    ``outlet_of`` is what outlets are counted by; this is what they are called.
    """
    name = " ".join((source or "").split())
    if name and name != "seed":  # seeds are named "seed", which says nothing of the outlet
        return name
    return outlet_of(canonical_url, name) or canonical_url


# --- LSH keys ----------------------------------------------------------------------------


def band_keys(fp: Fingerprint) -> tuple[BandKey, ...]:
    """The keys an article is filed under and looked up by: bands, then the title."""
    keys = [] if fp.short else _signature_bands(fp.signature, fp.language)
    title = title_key(fp)
    return (*keys, title) if title is not None else tuple(keys)


def _signature_bands(sig: bytes, language: str) -> list[BandKey]:
    width = ROWS * 4
    return [
        BandKey(band, _key_hash(language, band, sig[band * width : (band + 1) * width]))
        for band in range(BANDS)
    ]


def title_key(fp: Fingerprint) -> BandKey | None:
    """The title's key, when the title has enough words to mean something on its own."""
    if len(fp.normalised_title.split()) < MIN_TITLE_WORDS:
        return None
    content = fp.normalised_title.encode()
    return BandKey(TITLE_BAND, _key_hash(fp.language, TITLE_BAND, content))


def _key_hash(language: str, band: int, content: bytes) -> int:
    digest = hashlib.blake2b(digest_size=8, person=_KEY_PERSON)
    digest.update(language.encode() + b"\0")
    digest.update(band.to_bytes(2, "big", signed=True))
    digest.update(content)
    # Signed, because that is what a BIGINT column holds.
    return int.from_bytes(digest.digest(), "big", signed=True)


# --- the verdict -------------------------------------------------------------------------


def estimated_jaccard(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    if len(sig_a) != len(sig_b) or not sig_a:
        raise ValueError("signatures of different lengths cannot be compared")
    import numpy as np  # here, not at the top: listing articles never compares signatures

    a = np.frombuffer(sig_a, dtype="<u4")
    b = np.frombuffer(sig_b, dtype="<u4")
    return float(np.count_nonzero(a == b)) / a.size


def length_ratio_ok(words_a: int, words_b: int, threshold: float) -> bool:
    """Whether two texts' lengths allow a Jaccard similarity of ``threshold`` at all."""
    longer = max(words_a, words_b)
    return longer > 0 and min(words_a, words_b) / longer >= threshold


def match(
    a: Fingerprint,
    b: Fingerprint,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_TITLE_WINDOW,
) -> Match | None:
    """Why ``a`` and ``b`` are one story, or None when they are not."""
    if a.language != b.language:
        return None
    if not (a.short or b.short):
        # Signatures of another size were made with other parameters: not comparable.
        comparable = len(a.signature) == len(b.signature)
        if comparable and length_ratio_ok(a.words, b.words, threshold):
            similarity = estimated_jaccard(a.signature, b.signature)
            if similarity >= threshold:
                return Match(similarity, "text")
        return passage_match(a.passages, b.passages)
    by_passages = passage_match(a.passages, b.passages)
    if by_passages is not None:
        return by_passages
    same_title = title_key(a) is not None and a.normalised_title == b.normalised_title
    if same_title and abs(a.seen_at - b.seen_at) <= window:
        return Match(1.0, "title")
    return None


def passage_match(a: Sequence[Passage], b: Sequence[Passage]) -> Match | None:
    """The passage rule (see the module docstring): a match, or None."""
    smaller = min(len(a), len(b))
    if smaller < MIN_SHARED_PASSAGES:
        return None
    shared = {p.hash for p in a} & {p.hash for p in b}
    overlap = len(shared) / smaller
    if len(shared) < MIN_SHARED_PASSAGES or overlap < PASSAGE_THRESHOLD:
        return None
    if other_figures(a, b, shared):
        return None
    return Match(overlap, "passages")


def other_figures(a: Sequence[Passage], b: Sequence[Passage], shared: set[int]) -> bool:
    """Whether a passage of ``a`` has the shape of one of ``b`` with other names or figures."""
    shapes = {p.shape for p in a if p.hash not in shared}
    return any(p.shape in shapes for p in b if p.hash not in shared)


def is_near_duplicate(
    a: Fingerprint,
    b: Fingerprint,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_TITLE_WINDOW,
) -> bool:
    """True when ``a`` and ``b`` are copies of one story (see ``match``)."""
    return match(a, b, threshold=threshold, window=window) is not None
