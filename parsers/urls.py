"""Canonical URLs: one spelling per article, so that exact duplicates collapse.

``canonical_url`` never raises: a string it cannot make sense of comes back stripped, so a
bad link in one feed item can never fail a whole feed. It is idempotent:
``canonical_url(canonical_url(u)) == canonical_url(u)`` for every string ``u``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from contextlib import suppress
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

import idna

# Query parameters that only track the reader's path to the page; they never change content.
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_", "ga_", "ns_", "_hs")
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
        "ref", "ref_src", "cmp", "ito", "xtor", "__twitter_impression", "ocid", "s_cid",
        "cmpid", "rss", "partner", "taid", "sr_share", "_ga", "_gl", "mkt_tok", "wt.mc_id",
        "oly_anon_id", "oly_enc_id", "vero_id", "hsctatracking", "depuisrecherche", "__vfz",
    }
)  # fmt: skip
# AMP markers in the query (``?amp``, ``?amp=1``) and the parameters Google's AMP viewer adds.
_AMP_PARAMS = frozenset({"amp", "_amp", "amp_js_v", "amp_gsa", "usqp", "outputtype"})
# Host prefixes that serve the same article as the bare host: mobile and AMP editions.
_EDITION_PREFIXES = ("m.", "mobile.", "amp.")
#: Longest feed URL accepted (the feeds table holds 2048).
MAX_URL_CHARS = 2048
_FEED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# A percent-escape, or a character a path may not carry unescaped (RFC 3986 pchar plus "/").
_ESCAPE_OR_UNSAFE = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_AMP_HTML = re.compile(r"(?:\.amp)+(?=\.html?$)", re.IGNORECASE)
# Second-level labels under which registrations happen (bbc.co.uk, mifi.gouv.qc.ca).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "gouv", "gc", "ac", "edu", "qc"})
# Google News article ids of the older kind carry the target URL inside a base64 protobuf.
_GOOGLE_NEWS_ID = re.compile(r"^/(?:rss/)?articles/([A-Za-z0-9_-]{20,})$")
_EMBEDDED_URL = re.compile(rb"https?://[\x21-\x7e]+")
_MAX_UNWRAP = 5
# What an ASCII host name may be made of (underscores occur in real names, though DNS
# registries refuse them); a label is at most 63 characters and a name at most 253.
_HOST_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")
_MAX_HOST_CHARS = 253


def is_tracking_param(name: str) -> bool:
    """True when a query parameter exists only for analytics."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def feed_url_refusal(url: str) -> str | None:
    """Why ``url`` cannot be a feed Vigie polls, or None when it can."""
    if not url:
        return "empty URL"
    if len(url) > MAX_URL_CHARS:
        return f"URL longer than {MAX_URL_CHARS} characters"
    return fetch_url_refusal(url)


def fetch_url_refusal(url: str) -> str | None:
    """Why ``url`` cannot be requested, or None when it can: the checks every feed, page and
    redirect URL passes before a request is built from it.

    http or https; no whitespace, control character or backslash (which browsers read as
    "/", and HTTP libraries refuse); a port from 1 to 65535; a host that is an IP address or
    a valid DNS name: labels of 1 to 63 characters, 253 in all, and, for an internationalised
    name, valid IDNA (``xn--`` labels that decode, Unicode labels that encode).
    """
    if any(c.isspace() or not c.isprintable() for c in url):
        return "URL contains spaces or control characters"
    if "\\" in url:
        return "URL contains a backslash"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in _FEED_SCHEMES:
        scheme = parts.scheme or "none"
        return f"scheme {scheme!r} is not fetched (only http and https)"
    if not host:
        return "URL has no host"
    if port == 0:
        return "port 0 is not a port a server listens on (1 to 65535)"
    return host_refusal(host)


def host_refusal(host: str) -> str | None:
    """Why ``host`` (an IP address or a host name, without brackets or port) cannot be
    connected to, or None when it can."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    name = host.removesuffix(".")
    if not name.isascii():
        try:
            # IDNA 2008 without UTS 46 mapping ("¹" is not "1"), as httpx encodes names.
            name = idna.encode(name.lower()).decode("ascii")
        except ValueError as exc:  # IDNAError, or the UnicodeError it may let through
            return f"host {host!r} is not a valid internationalised name ({exc})"
    if len(name) > _MAX_HOST_CHARS:
        return f"host name longer than {_MAX_HOST_CHARS} characters"
    for label in name.split("."):
        if not _HOST_LABEL.fullmatch(label):
            return f"host {host!r} has an empty, over-long (over 63) or invalid label {label!r}"
        if label.lower().startswith("xn--"):
            try:
                idna.decode(label)
            except ValueError as exc:
                return f"host {host!r} has an invalid IDNA label {label!r} ({exc})"
    return None


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of ``url`` (resolved against ``base`` when relative).

    - scheme and host lower-cased, IDN hosts in punycode, default port and trailing dot dropped;
    - mobile and AMP editions (``m.``, ``mobile.``, ``amp.`` hosts, ``/amp/`` path segments,
      ``.amp.html``, ``?amp``) folded into the plain article URL;
    - fragment, credentials and tracking parameters dropped, the rest of the query sorted;
    - percent-escapes normalised (unreserved characters decoded, hex upper-cased, spaces and
      non-ASCII escaped as UTF-8) and ``.``/``..`` path segments resolved;
    - known redirectors (``google.com/url``, AMP caches, ``l.facebook.com``) unwrapped.

    Non-HTTP identifiers (``urn:``, ``tag:``) and strings that are not valid URLs (a bad port,
    a broken IPv6 literal) are returned stripped but otherwise untouched.
    """
    url = url.strip()
    if base:
        # Joining can surface whitespace the input hid ("/../ x" against a bare "//"). A base
        # no URL can be built on (a broken IPv6 literal) leaves the link on its own.
        with suppress(ValueError):
            url = urljoin(base.strip(), url).strip()
    for _ in range(_MAX_UNWRAP):
        # Redirectors are recognised before canonicalisation (which would drop the "/amp/" of
        # Google's AMP viewer) and after it (which turns "m.google.com" into "google.com").
        inner = _unwrap_redirect(url)
        if inner is None:
            canonical = _canonical_or_same(url)
            if canonical == url:
                return canonical  # already canonical: no redirector, as just asked
            inner = _unwrap_redirect(canonical)
            if inner is None:
                return canonical
        url = inner.strip()
    return _canonical_or_same(url)


def host_of(url: str) -> str:
    """Lower-case host name of a URL, or an empty string when it has none."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def site_of(url: str) -> str:
    """The registrable domain of a URL, roughly: ``www.cbc.ca`` and ``m.cbc.ca`` give ``cbc.ca``.

    A heuristic (no public-suffix list): the last two labels, or three under a country-code
    second level such as ``co.uk`` or ``qc.ca``. Good enough to tell one publisher from another.
    """
    return _registrable(host_of(canonical_url(url)))


def _registrable(host: str) -> str:
    """``site_of`` for a host already taken from a canonical URL."""
    labels = host.split(".")
    if len(labels) < 3 or _is_ip(host):
        return host
    keep = 2
    if len(labels[-1]) == 2:  # only country-code domains have second-level registries
        while keep < len(labels) and labels[-keep] in _SECOND_LEVEL:
            keep += 1
    return ".".join(labels[-keep:])


def prefer_canonical(page_url: str, declared: str | None) -> str:
    """The URL to file a page under: its declared canonical URL when that is trustworthy.

    ``declared`` (from ``<link rel=canonical>`` or ``og:url``, possibly relative) is taken when
    it is http(s) and on the same site as ``page_url``; otherwise the page's own canonical URL
    is kept. Two common misconfigurations are refused: a canonical pointing to another site
    (syndicated copies must stay filed under the outlet that ran them) and one pointing to the
    home page (CMS templates that give every article the same canonical). When ``page_url`` is
    not http(s) itself (a local file), any absolute http(s) declaration is taken.
    """
    return prefer_declared(canonical_url(page_url), declared)


def prefer_declared(page: str, declared: str | None) -> str:
    """``prefer_canonical`` for a page URL that is already ``canonical_url``'s output.

    A page is filed from up to two declarations (``<link rel=canonical>``, ``og:url``): the
    page's URL is canonicalised once for both. As ``canonical_url`` is idempotent, ``page``
    and ``candidate`` are not canonicalised again to compare their sites: that made five
    canonicalisations of a page's URLs where two give the same answer.
    """
    if not declared or not declared.strip():
        return page
    page_is_web = _is_web(page)
    candidate = canonical_url(declared, base=page if page_is_web else None)
    if not _is_web(candidate):
        return page
    if not page_is_web:
        return candidate
    if _registrable(host_of(candidate)) != _registrable(host_of(page)):
        return page
    if _path_of(candidate) == "/" and _path_of(page) != "/":
        return page
    return candidate


def _canonical_or_same(url: str) -> str:
    try:
        return _canonical_http(url) or url
    except (ValueError, UnicodeError):  # a bad port, an unparsable IPv6 literal, ...
        return url


def _canonical_http(url: str) -> str | None:
    """Canonical form of an http(s) URL; None when ``url`` is not one (or has no host)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    host = _canonical_host(parts.hostname or "")
    if not host:
        return None
    port = parts.port  # raises ValueError on a bad port, which the caller turns into "as is"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    query = _canonical_query(parts.query)
    return f"{scheme}://{netloc}{_canonical_path(parts.path)}" + (f"?{query}" if query else "")


def _canonical_host(host: str) -> str:
    host = _ascii_host(host.lower().rstrip("."))
    # A loop, not one pass, so that "m.m.example.com" reaches its fixed point in one call.
    while host.startswith(_EDITION_PREFIXES) and not _is_ip(host):
        bare = host.split(".", 1)[1]
        if "." not in bare:
            break  # "m.me" is a site of its own, not a mobile edition of "me"
        host = bare
    return host


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    try:
        # The codec also maps ideographic full stops to ".", hence the second rstrip.
        return host.encode("idna").decode("ascii").rstrip(".")
    except UnicodeError:  # an over-long label, ...: keep the Unicode form, consistently
        return host


def _canonical_path(path: str) -> str:
    path = _remove_dot_segments(_normalise_escapes(path) or "/")
    path = "/".join(seg for seg in path.split("/") if seg.lower() != "amp")
    path = _AMP_HTML.sub("", path)
    return path if path.startswith("/") else "/" + path


def _normalise_escapes(text: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape unsafe chars."""
    return _ESCAPE_OR_UNSAFE.sub(_fix_escape, text)


def _fix_escape(match: re.Match[str]) -> str:
    found = match.group()
    if len(found) == 3 and found[0] == "%":
        char = chr(int(found[1:], 16))
        return char if char in _UNRESERVED else found.upper()
    # An unsafe character, including a lone "%" (which becomes "%25").
    return "".join(f"%{b:02X}" for b in found.encode("utf-8", "surrogatepass"))


def _remove_dot_segments(path: str) -> str:
    segments = path.split("/")[1:]
    out: list[str] = []
    for seg in segments:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if segments and segments[-1] in (".", ".."):
        out.append("")
    return "/" + "/".join(out)


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = sorted((k, v) for k, v in pairs if not is_tracking_param(k) and not _is_amp_param(k, v))
    return urlencode(kept)


def _is_amp_param(name: str, value: str) -> bool:
    lowered = name.lower()
    # "outputType=amp" marks an AMP rendering; other outputType values select other content.
    if lowered == "outputtype":
        return value.lower() == "amp"
    return lowered in _AMP_PARAMS


def _unwrap_redirect(url: str) -> str | None:
    """The target of a redirector or AMP-cache URL, or None when ``url`` is not one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host, path = parts.hostname or "", parts.path
    target: str | None = None
    # The query is read only for the redirectors that carry their target in it: every link
    # of every feed item comes through here twice, and almost none is a redirector.
    if _is_google(host) and path == "/url":
        params = dict(parse_qsl(parts.query))
        target = params.get("q") or params.get("url")
    elif _is_google(host) and path.startswith("/amp/"):
        target = _cache_target(path.removeprefix("/amp/"))
    elif host.endswith(".cdn.ampproject.org") and path[:3] in ("/c/", "/v/"):
        target = _cache_target(path[3:])
    elif host in ("l.facebook.com", "lm.facebook.com") and path == "/l.php":
        target = dict(parse_qsl(parts.query)).get("u")
    elif host == "news.google.com":
        target = _google_news_target(path)
    if target and _is_web(target) and target != url:
        return target
    return None


def _cache_target(rest: str) -> str:
    # AMP caches spell the origin as "s/host/path" for https and "host/path" for http.
    if rest.startswith("s/"):
        return "https://" + rest.removeprefix("s/")
    return "http://" + rest


def _google_news_target(path: str) -> str | None:
    match = _GOOGLE_NEWS_ID.match(path)
    if not match:
        return None
    encoded = match.group(1)
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    # Newer ids are opaque tokens that only Google can resolve; those stay as they are.
    embedded = _EMBEDDED_URL.search(raw)
    return embedded.group().decode("ascii") if embedded else None


def _is_google(host: str) -> bool:
    labels = host.removeprefix("www.").split(".")
    return len(labels) in (2, 3) and labels[0] == "google"


def _is_web(url: str) -> bool:
    """An http(s) URL that canonicalises (a bad port or host makes it garbage, not a page)."""
    try:
        return _canonical_http(url) is not None
    except (ValueError, UnicodeError):
        return False


def _is_ip(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def _path_of(url: str) -> str:
    return unquote(urlsplit(url).path) or "/"
