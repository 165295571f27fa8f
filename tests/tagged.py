"""Tagging with the offsets checked: every test that reads mentions relies on them."""

from __future__ import annotations

from parsers import tagging
from parsers.tagging import Tagger, TagResult


def assert_offsets(result: TagResult, title: str, text: str) -> None:
    """Each mention's offsets point at its text, its sentence is bounded, and they are sorted."""
    fields = {"title": title, "text": text}
    for mention in result.mentions:
        assert fields[mention.field][mention.start : mention.end] == mention.text, mention
        assert len(mention.sentence) <= tagging.MAX_SENTENCE + 1
    assert list(result.mentions) == sorted(result.mentions, key=lambda m: (m.field, m.start))


def tag_checked(tagger: Tagger, text: str, title: str = "") -> TagResult:
    """``tagger.tag(title, text)``, failing the test if a mention's offsets are off."""
    result = tagger.tag(title, text)
    assert_offsets(result, title, text)
    return result
