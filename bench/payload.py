"""What a feed job's result costs the run's process: its pickle's size, the objects it
unpickles into, and the CPU seconds unpickling takes with the garbage collector on and off.

The workers send each feed's ``ParsedFeed`` (its tagged, sketched intents) back through a
pipe; the run's process, whose store thread bounds a pass, unpickles them all. This parses
a generated corpus (``bench/corpus.py``) as a worker does (``parse_feed_document``) and
measures the results' round trip.

    python bench/payload.py --feeds 200 --items 50
    python bench/payload.py --feeds 200 --items 50 --dump intents.pickle

``--dump`` writes every intent as plain values (dataclasses as their class name and fields,
field by field) so that two versions of the code can be compared for identical intents:
``--compare a.pickle b.pickle``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import pickle
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import CorpusSpec, build, render_feed  # noqa: E402
from db.intents import FeedForUpdate  # noqa: E402
from flows.cpu import ParsedFeed, parse_feed_document  # noqa: E402
from parsers.tagging import Tagger  # noqa: E402
from parsers.taxonomy import load_taxonomy  # noqa: E402

TAXONOMY = ROOT / "seeds" / "taxonomy.toml"


def parsed_corpus(feeds: int, items: int) -> list[ParsedFeed]:
    """Every feed of a generated corpus, parsed and tagged as a worker does."""
    corpus = build(CorpusSpec(feeds=feeds, items=items))
    tagger = Tagger(load_taxonomy(TAXONOMY))
    results = []
    for plan, feed_items in zip(corpus.feeds, corpus.items, strict=True):
        feed = FeedForUpdate(
            id=plan.index + 1,
            url=plan.url,
            name=plan.name,
            language=None,
            etag=None,
            last_modified=None,
            body_hash=None,
            interval_minutes=None,
            health="healthy",
            consecutive_failures=0,
            failure_weight=0.0,
        )
        headers = {"content-type": "application/xml"}
        body = render_feed(plan, feed_items)
        results.append(parse_feed_document(feed, plan.url, body, headers, tagger))
    return results


def reachable_objects(root: object) -> int:
    """Distinct objects reachable from ``root`` (what unpickling it creates); classes and
    what they hold are not counted."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        stack.extend(gc.get_referents(obj))
    return len(seen)


def unpickle_seconds(blobs: list[bytes], *, collect: bool, rounds: int) -> float:
    """Median process CPU seconds to unpickle every blob, the collector on or off, with the
    results kept alive until the round ends (as the run keeps them while it stores)."""
    times = []
    for _ in range(rounds):
        gc.collect()
        if collect:
            gc.enable()
        else:
            gc.disable()
        start = time.process_time()
        kept = [pickle.loads(blob) for blob in blobs]
        times.append(time.process_time() - start)
        gc.enable()
        del kept
    return statistics.median(times)


def held_bytes(blobs: list[bytes]) -> int:
    """Bytes of memory the unpickled results hold while they are kept."""
    gc.collect()
    tracemalloc.start()
    kept = [pickle.loads(blob) for blob in blobs]
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return held


def plain(value: Any) -> Any:
    """``value`` as builtins only: a dataclass as its class name and its fields in order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = tuple(
            (field.name, plain(getattr(value, field.name))) for field in dataclasses.fields(value)
        )
        return (type(value).__name__, fields)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple: as a dataclass
        pairs = tuple((name, plain(getattr(value, name))) for name in value._fields)
        return (type(value).__name__, pairs)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(plain(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple((plain(k), plain(v)) for k, v in value.items()))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ("bytes", bytes(value))
    return value


def compare(first: Path, second: Path) -> int:
    a, b = pickle.loads(first.read_bytes()), pickle.loads(second.read_bytes())
    if len(a) != len(b):
        print(f"{len(a)} feeds against {len(b)}")
        return 1
    differing = sum(1 for x, y in zip(a, b, strict=True) if x != y)
    intents = sum(len(dict(feed[1])["intents"][1]) for feed in a)
    print(f"{len(a)} feeds, {intents} intents: {differing} feeds differ")
    return 1 if differing else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dump", type=Path, help="write every intent as plain values here")
    parser.add_argument("--compare", type=Path, nargs=2, help="two --dump files")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    results = parsed_corpus(args.feeds, args.items)
    if args.dump:
        args.dump.write_bytes(pickle.dumps([plain(result) for result in results]))
    blobs = [pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL) for result in results]
    intents = sum(len(result.intents) for result in results)
    loaded = [pickle.loads(blob) for blob in blobs]
    objects = reachable_objects(loaded)
    held = held_bytes(blobs)
    on = unpickle_seconds(blobs, collect=True, rounds=args.rounds)
    off = unpickle_seconds(blobs, collect=False, rounds=args.rounds)
    size = sum(len(blob) for blob in blobs)
    print(f"{len(results)} feeds, {intents} intents")
    print(f"pickled: {size / 1e6:.2f} MB ({size / intents:.0f} B an intent)")
    print(f"objects unpickled: {objects} ({objects / intents:.1f} an intent)")
    print(f"held once unpickled: {held / 1e6:.1f} MB")
    print(f"unpickle CPU s (median of {args.rounds}): gc on {on:.3f}, gc off {off:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
