"""The text helpers' fast forms give exactly what their definitions give.

Content hashes are stored and compared across versions, and feed text is stored as
``clean_text`` makes it: a faster spelling of either must never give another string.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.text import clean_text, content_hash, fold, normalise_for_hash, safe_text

# Every character class the definitions treat apart: ASCII words and punctuation, accented
# letters and combining marks, Unicode spaces (no-break, em, ideographic), line breaks,
# controls, digits of other scripts, an underscore (a word character).
_TRICKY = st.text(
    alphabet=st.sampled_from(
        [
            *"aZ09 _-.,'’«»\t\n\r\x0b\x0c\x1c\x1f\x00",
            *("é", "É", "ß", "ﬁ", "İ", "\u0301", "\u00a0", "\u2003", "\u3000", "\u202f"),
            *("\u0660", "\u2028", "\u200b", "\u00ad", "Ω", "ǅ"),
        ]
    ),
    max_size=60,
)


def _normalise_by_definition(text: str) -> str:
    """Folded text, each run of non-word characters one space, no space at either end."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w]+", " ", fold(text))).strip()


def _clean_by_definition(text: str) -> str:
    text = safe_text(text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (re.sub(r"\s+", " ", para).strip() for para in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


@settings(max_examples=500)
@given(st.one_of(_TRICKY, st.text(max_size=60)))
def test_normalise_for_hash_is_its_definition(text: str) -> None:
    assert normalise_for_hash(text) == _normalise_by_definition(text)


@settings(max_examples=500)
@given(st.one_of(_TRICKY, st.text(max_size=60)))
def test_clean_text_is_its_definition(text: str) -> None:
    assert clean_text(text) == _clean_by_definition(text)


def test_normalise_for_hash_on_a_news_sentence() -> None:
    text = "  Québec's «seuils» :\u00a02\u202f000 réfugiés_temporaires —\n\nÉTÉ 2026 ! "
    assert normalise_for_hash(text) == "quebec s seuils 2 000 refugies_temporaires ete 2026"


def test_content_hash_is_unchanged() -> None:
    # Stored hashes must keep matching: this value was computed before the fast path.
    assert content_hash("Ottawa cuts levels", "Fewer permanent residents in 2026.") == (
        "84e9474d4779a46b612148cd08ba96b9bac45556e7bacc381970575ffa4b4097"
    )


def test_clean_text_keeps_paragraphs_and_collapses_spaces() -> None:
    raw = "  One\u00a0 two\r\n\r\n\tthree \x00four\n \n\nfive\u2003six  "
    assert clean_text(raw) == "One two\n\nthree four\n\nfive six"
