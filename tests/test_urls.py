"""Canonical URLs: a table of real-world messy links, plus properties over generated ones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.urls import (
    _is_web,
    _path_of,
    canonical_url,
    host_of,
    is_tracking_param,
    prefer_canonical,
    prefer_declared,
    site_of,
)

MESSY_URLS = [
    # CBC: upper-case host, default port, RSS and share tracking, fragment.
    (
        "HTTPS://WWW.CBC.CA:443/news/canada/montreal/roxham-road-asylum-1.6789012?cmp=rss#comments",
        "https://www.cbc.ca/news/canada/montreal/roxham-road-asylum-1.6789012",
    ),
    (
        "https://www.cbc.ca/news/politics/immigration-levels-1.7012345?__vfz=medium%3Dsharebar",
        "https://www.cbc.ca/news/politics/immigration-levels-1.7012345",
    ),
    # CBC mobile edition.
    (
        "https://m.cbc.ca/news/canada/study-permit-cap-1.7088888",
        "https://cbc.ca/news/canada/study-permit-cap-1.7088888",
    ),
    # Radio-Canada: search-results marker and campaign parameters.
    (
        "https://ici.radio-canada.ca/nouvelle/2045678/plan-immigration-quebec"
        "?depuisRecherche=true&utm_source=facebook&utm_medium=social",
        "https://ici.radio-canada.ca/nouvelle/2045678/plan-immigration-quebec",
    ),
    # Radio-Canada mobile edition with a Facebook click id.
    (
        "https://mobile.radio-canada.ca/nouvelle/2045679/peq?fbclid=IwAR0abc",
        "https://radio-canada.ca/nouvelle/2045679/peq",
    ),
    # La Presse: an /amp/ path segment.
    (
        "https://www.lapresse.ca/actualites/politique/2024-01-10/immigration/amp/seuils.php",
        "https://www.lapresse.ca/actualites/politique/2024-01-10/immigration/seuils.php",
    ),
    # Le Devoir: Google's click redirector wrapping a tracked link.
    (
        "https://www.google.com/url?sa=t&q=https://www.ledevoir.com/politique/quebec/801234/"
        "demandeurs-asile%3Futm_source%3Drecirculation&ved=2ahUKE",
        "https://www.ledevoir.com/politique/quebec/801234/demandeurs-asile",
    ),
    # Le Devoir: dot segments and a MailChimp campaign.
    (
        "https://www.ledevoir.com/societe/./../societe/799000/reunification?mc_cid=1a&mc_eid=2b",
        "https://www.ledevoir.com/societe/799000/reunification",
    ),
    # CTV: .amp.html and ?amp.
    (
        "https://www.ctvnews.ca/politics/ottawa-caps-study-permits-1.6726171.amp.html?amp",
        "https://www.ctvnews.ca/politics/ottawa-caps-study-permits-1.6726171.html",
    ),
    # Global News: trailing /amp/ and campaign parameters.
    (
        "https://globalnews.ca/news/10123456/quebec-immigration-plan/amp/?utm_campaign=x&utm_medium=y",
        "https://globalnews.ca/news/10123456/quebec-immigration-plan/",
    ),
    # Google AMP cache in front of Global News.
    (
        "https://globalnews-ca.cdn.ampproject.org/c/s/globalnews.ca/news/10123456/slug/amp/",
        "https://globalnews.ca/news/10123456/slug/",
    ),
    # Google's AMP viewer in front of CTV.
    (
        "https://www.google.com/amp/s/www.ctvnews.ca/canada/roxham-1.6300000?amp_js_v=0.1&usqp=mq331AQ",
        "https://www.ctvnews.ca/canada/roxham-1.6300000",
    ),
    # Older Google News article ids embed the target URL.
    (
        "https://news.google.com/rss/articles/CBMiQ2h0dHBzOi8vd3d3LmNiYy5jYS9uZXdzL2NhbmFkYS9t"
        "b250cmVhbC9yb3hoYW0tMS42Nzg5MDEy0gEA?oc=5",
        "https://www.cbc.ca/news/canada/montreal/roxham-1.6789012",
    ),
    # Newer ones are opaque and stay as they are (minus nothing: oc is not tracking).
    (
        "https://news.google.com/rss/articles/CBMiK0FVX3lxTE1abcdefghijklmnopqrstuv?oc=5",
        "https://news.google.com/rss/articles/CBMiK0FVX3lxTE1abcdefghijklmnopqrstuv?oc=5",
    ),
    # Facebook's outbound-link redirector.
    (
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.journaldemontreal.com%2F2024%2F01%2F10"
        "%2Fimmigration%3Ffbclid%3DIwZ&h=AT3",
        "https://www.journaldemontreal.com/2024/01/10/immigration",
    ),
    # Percent-encoding: lower-case hex, escaped unreserved characters, raw accents and spaces.
    (
        "https://www.quebec.ca/immigration/%7eprogrammes/exp%c3%a9rience qu%C3%A9bécoise",
        "https://www.quebec.ca/immigration/~programmes/exp%C3%A9rience%20qu%C3%A9b%C3%A9coise",
    ),
    # Query order does not matter; blank values survive; the AMP flag goes.
    (
        "http://www.tvanouvelles.ca/2024/01/10/asile?page=2&amp=1&edition=",
        "http://www.tvanouvelles.ca/2024/01/10/asile?edition=&page=2",
    ),
    # IDN host to punycode, trailing dot, explicit non-default port kept.
    ("https://Bücher.Example.:8443/ü", "https://xn--bcher-kva.example:8443/%C3%BC"),
    # An AMP sub-domain.
    ("https://amp.theguardian.com/world/2024/jan/10/canada", "https://theguardian.com/world/2024/jan/10/canada"),
    # m.me is a site of its own, not a mobile "me".
    ("http://m.me/vigie", "http://m.me/vigie"),
    # Non-HTTP identifiers are opaque.
    ("urn:uuid:6e8bc430-9c3a-11d9", "urn:uuid:6e8bc430-9c3a-11d9"),
    ("tag:cbc.ca,2024:1.6789012", "tag:cbc.ca,2024:1.6789012"),
    # Garbage comes back stripped, never raises.
    ("  http://www.cbc.ca:notaport/x  ", "http://www.cbc.ca:notaport/x"),
    ("http://[not-ipv6/x", "http://[not-ipv6/x"),
    ("http://", "http://"),
    ("", ""),
]  # fmt: skip


@pytest.mark.parametrize(("messy", "expected"), MESSY_URLS)
def test_messy_urls(messy: str, expected: str) -> None:
    assert canonical_url(messy) == expected
    assert canonical_url(expected) == expected


def test_relative_urls_resolve_against_base() -> None:
    base = "https://www.cbc.ca/news/canada/montreal/roxham-1.6789012"
    assert (
        canonical_url("../politics/x-1.2", base=base)
        == "https://www.cbc.ca/news/canada/politics/x-1.2"
    )
    assert canonical_url("/amp/1.2?cmp=rss", base=base) == "https://www.cbc.ca/1.2"


@pytest.mark.parametrize(
    ("name", "tracking"),
    [("utm_source", True), ("UTM_Medium", True), ("fbclid", True), ("mc_cid", True),
     ("gclid", True), ("page", False), ("id", False), ("q", False)],
)  # fmt: skip
def test_is_tracking_param(name: str, tracking: bool) -> None:
    assert is_tracking_param(name) is tracking


def test_host_of() -> None:
    assert host_of("https://WWW.LaPresse.ca/x") == "www.lapresse.ca"
    assert host_of("not a url") == ""
    assert host_of("http://[broken") == ""


@pytest.mark.parametrize(
    ("url", "site"),
    [("https://www.cbc.ca/news", "cbc.ca"), ("https://m.cbc.ca/news", "cbc.ca"),
     ("https://ici.radio-canada.ca/x", "radio-canada.ca"),
     ("https://www.bbc.co.uk/x", "bbc.co.uk"),
     ("https://www.mifi.gouv.qc.ca/fr/", "mifi.gouv.qc.ca"),
     ("http://127.0.0.1:8000/x", "127.0.0.1")],
)  # fmt: skip
def test_site_of(url: str, site: str) -> None:
    assert site_of(url) == site


PREFER_CASES = [
    # A relative canonical on a mobile page: resolved, same site, taken.
    ("https://m.cbc.ca/news/x-1.2?cmp=rss", "/news/canada/x-1.2", "https://cbc.ca/news/canada/x-1.2"),
    # AMP page pointing at its regular edition.
    ("https://www.cbc.ca/amp/1.7012345", "https://www.cbc.ca/news/politics/levels-1.7012345",
     "https://www.cbc.ca/news/politics/levels-1.7012345"),
    # Another sub-domain of the same publisher.
    ("https://www.lapresse.ca/x.php", "https://plus.lapresse.ca/screens/abc.html",
     "https://plus.lapresse.ca/screens/abc.html"),
    # Syndicated copy pointing at another outlet: refused.
    ("https://www.ctvnews.ca/canada/x-1.2", "https://www.cp24.com/news/x-1.2", "https://www.ctvnews.ca/canada/x-1.2"),
    # Every page claiming the home page as canonical: refused.
    ("https://www.ledevoir.com/societe/799000/x", "https://www.ledevoir.com/", "https://www.ledevoir.com/societe/799000/x"),
    # Not http(s), or empty: refused.
    ("https://globalnews.ca/news/1/", "javascript:void(0)", "https://globalnews.ca/news/1/"),
    ("https://globalnews.ca/news/1/?utm_source=x", None, "https://globalnews.ca/news/1/"),
    ("https://globalnews.ca/news/1/", "   ", "https://globalnews.ca/news/1/"),
    # A local file has no site: an absolute declaration is the best name it has.
    ("file:///page.html", "https://www.cbc.ca/news/x-1.2", "https://www.cbc.ca/news/x-1.2"),
]  # fmt: skip


@pytest.mark.parametrize(("page", "declared", "expected"), PREFER_CASES)
def test_prefer_canonical(page: str, declared: str | None, expected: str) -> None:
    assert prefer_canonical(page, declared) == expected


_LABEL = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)
_PREFIX = st.sampled_from(["", "www.", "m.", "mobile.", "amp.", "M.", "m.m."])
_HOST = st.builds(
    lambda prefix, labels, tld, dot: prefix + ".".join([*labels, tld]) + dot,
    _PREFIX,
    st.lists(_LABEL, min_size=1, max_size=3),
    st.sampled_from(["ca", "com", "qc.ca", "CA", "québec", "org"]),
    st.sampled_from(["", "."]),
)
_SEGMENT = st.one_of(
    st.sampled_from(
        ["amp", "AMP", ".", "..", "", "x.amp.html", "%7e", "%2F", "%41", "%", "é", "a b"]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)
_PARAM = st.tuples(
    st.one_of(
        st.sampled_from(["utm_source", "fbclid", "amp", "page", "id", "q"]), st.text(max_size=5)
    ),
    st.text(max_size=6),
)
_URL = st.builds(
    lambda scheme, host, port, segments, params, fragment: (
        f"{scheme}://{host}{port}/{'/'.join(segments)}"
        + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
        + fragment
    ),
    st.sampled_from(["http", "https", "HTTPS", "ftp"]),
    _HOST,
    st.sampled_from(["", ":80", ":443", ":8080", ":x", ":99999"]),
    st.lists(_SEGMENT, max_size=5),
    st.lists(_PARAM, max_size=4),
    st.sampled_from(["", "#top", "#"]),
)


@settings(max_examples=400, deadline=None)
@given(_URL)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_canonical_url_never_raises_and_is_idempotent_on_any_text(text: str) -> None:
    once = canonical_url(text)
    assert canonical_url(once) == once


@settings(max_examples=200, deadline=None)
@given(_URL, st.one_of(st.none(), _URL, st.text(max_size=20)))
def test_prefer_canonical_never_raises(page: str, declared: str | None) -> None:
    chosen = prefer_canonical(page, declared)
    assert chosen in (canonical_url(page), canonical_url(declared or "", base=canonical_url(page)))


def _prefer_canonical_as_specified(page_url: str, declared: str | None) -> str:
    """The filing rule spelled out with every URL canonicalised where it is compared, as
    ``prefer_canonical`` was written before it relied on ``canonical_url``'s idempotence."""
    page = canonical_url(page_url)
    if not declared or not declared.strip():
        return page
    candidate = canonical_url(declared, base=page if _is_web(page) else None)
    if not _is_web(candidate):
        return page
    if not _is_web(page):
        return candidate
    if site_of(candidate) != site_of(page):
        return page
    if _path_of(candidate) == "/" and _path_of(page) != "/":
        return page
    return candidate


@settings(max_examples=400, deadline=None)
@given(_URL, st.one_of(st.none(), _URL, st.text(max_size=20)))
def test_prefer_declared_files_a_page_as_the_rule_does(page: str, declared: str | None) -> None:
    # A page's URL is canonicalised once for its two declarations; what it is filed under
    # must not move.
    expected = _prefer_canonical_as_specified(page, declared)
    assert prefer_declared(canonical_url(page), declared) == expected
    assert prefer_canonical(page, declared) == expected


@pytest.mark.parametrize(("page", "declared", "expected"), PREFER_CASES)
def test_prefer_declared_on_the_table(page: str, declared: str | None, expected: str) -> None:
    assert prefer_declared(canonical_url(page), declared) == expected


# --- what may be requested --------------------------------------------------------------------

REFUSED = {
    "backslashes": ("http:\\\\127.0.0.2:8993/feed1.xml", "backslash"),
    "port out of range": ("http://example.com:99999/feed", "Port out of range"),
    "port 0": ("http://example.com:0/feed", "port 0"),
    "empty IDNA label": ("http://xn--/", "invalid IDNA label"),
    "IDNA label that does not decode": ("http://xn--zz.example/", "invalid IDNA label"),
    "empty label": ("http://news..example/", "empty, over-long"),
    "label of 64": (f"http://{'a' * 64}.example/", "empty, over-long"),
    "name of 254": ("http://" + ".".join(["a" * 50] * 5) + ".ca/", "longer than 253"),
    "percent in host": ("http://ex%41mple.com/", "invalid label"),
    "Unicode host IDNA refuses": ("http://snow\u2603man.com/", "internationalised"),
    "space": ("http://example.com/a b", "spaces"),
    "scheme": ("ftp://example.com/feed", "scheme 'ftp'"),
}
ACCEPTED = [
    "https://www.cbc.ca/cmlink/rss-politics",
    "http://127.0.0.1:8080/feed.xml",
    "http://[::1]:8080/feed.xml",
    "https://ici.radio-canada.ca/rss/4159",
    "https://café.example/flux",  # sent as xn--caf-dma.example
    "https://xn--caf-dma.example/flux",
    "https://my_host.example/feed",  # underscores are in real names, though not in IDNA
    "https://example.com:65535/feed",
    "https://example.com./feed",
]


@pytest.mark.parametrize(("url", "reason"), REFUSED.values(), ids=REFUSED)
def test_urls_that_cannot_be_requested_are_refused_with_the_reason(url: str, reason: str) -> None:
    from parsers.urls import fetch_url_refusal

    refusal = fetch_url_refusal(url)
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize("url", ACCEPTED)
def test_urls_that_can_be_requested_pass(url: str) -> None:
    from parsers.urls import fetch_url_refusal

    assert fetch_url_refusal(url) is None


@given(st.text(max_size=60))
@settings(max_examples=300)
def test_an_accepted_url_is_one_httpx_can_request(url: str) -> None:
    """Whatever passes the check builds a request: the check is at least as strict as httpx."""
    import httpx

    from parsers.urls import fetch_url_refusal

    candidate = f"http://{url}"
    if fetch_url_refusal(candidate) is None:
        target = httpx.URL(candidate)
        assert target.host and (target.port is None or 0 < target.port < 65536)
        httpx.Request("GET", target)


def test_validators_are_kept_only_when_they_can_be_sent_back() -> None:
    from parsers.validators import usable_etag, usable_last_modified

    assert usable_etag('"v1"') == '"v1"' and usable_etag('W/"a b"') == 'W/"a b"'
    assert usable_etag(" 12345 ") == "12345"  # unquoted, as many servers send it
    for bad in ('"café"', '"a\x00b"', '"a\x1bb"', "", None, '"' + "x" * 1100 + '"'):
        assert usable_etag(bad) is None
    assert usable_last_modified("Fri, 20 Nov 2026 14:00:00 GMT") is not None
    assert usable_last_modified("lundi 3 décembre") is None
