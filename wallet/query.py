"""Answering a Verifiable Presentation Request (W3C CCG "Verifiable Presentation Request v2024").

Pure functions over stored entries: which credentials answer a request, which cryptosuite to sign with.

* ``QueryByExample`` (VPR §3.2): each ``credentialQuery`` (an object or a list) is answered by the newest
  stored credential that is valid now, is about the holder, has every ``type`` of the ``example`` and, when
  the query names ``trustedIssuer`` entries marked ``required``, was issued by one of them.
* A site's onboarding request (:func:`select` with ``accepted_types``, the site profile's ``acceptedTypes``):
  its credential queries are *alternatives* (the site accepts any one of those types), so the wallet presents
  exactly one credential: the answer to the first query, in the site's order, that asks only for accepted types
  and that the wallet can answer. Nothing else the wallet holds is disclosed.
* ``DIDAuthentication`` (VPR §3.1): the holder's DID must be of an ``acceptedMethods`` method (when given);
  alone it yields a presentation without credentials.
* ``acceptedCryptosuites`` (when given) picks the suite; the wallet signs with Ed25519 suites only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError
from chopmark.jsonld.values import as_list
from wallet.errors import NoMatchingCredentialError, UnsupportedRequestError

QUERY_BY_EXAMPLE = "QueryByExample"
DID_AUTHENTICATION = "DIDAuthentication"
#: The suites an Ed25519 holder key can sign with, preferred first.
HOLDER_SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
_BASE_TYPE = "VerifiableCredential"
#: In ``accepted_types``: every type the request names is accepted (a site that publishes no profile).
ANY_TYPE = "*"


def queries(vpr: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The request's queries (``query`` is an object or a list of objects) after checking the request has
    the ``challenge`` and ``domain`` a replay-safe presentation needs."""
    if not isinstance(vpr, Mapping):
        raise UnsupportedRequestError("a presentation request must be a JSON object")
    for name in ("challenge", "domain"):
        if not isinstance(vpr.get(name), str) or not vpr[name]:
            raise UnsupportedRequestError(f"the presentation request has no {name}; refusing to answer it")
    found = as_list(vpr.get("query"))
    if not found or not all(isinstance(q, Mapping) for q in found):
        raise UnsupportedRequestError("the presentation request has no query objects")
    for query in found:
        if query.get("type") not in (QUERY_BY_EXAMPLE, DID_AUTHENTICATION):
            raise UnsupportedRequestError(f"unsupported query type {query.get('type')!r}")
    return found


def choose_suite(query_list: Sequence[Mapping[str, Any]]) -> str:
    """The first holder suite every ``acceptedCryptosuites`` list allows (default eddsa-rdfc-2022)."""
    allowed = list(HOLDER_SUITES)
    for query in query_list:
        accepted = query.get("acceptedCryptosuites")
        if accepted is None:
            continue
        names = {a.get("cryptosuite") if isinstance(a, Mapping) else a for a in as_list(accepted)}
        allowed = [s for s in allowed if s in names]
    if not allowed:
        raise UnsupportedRequestError(f"the request accepts none of the wallet's cryptosuites {HOLDER_SUITES}")
    return allowed[0]


def check_did_method(query_list: Sequence[Mapping[str, Any]], did: str) -> None:
    """Refuse when a DIDAuthentication query lists ``acceptedMethods`` without the holder's DID method."""
    method = did.split(":")[1]
    for query in query_list:
        if query.get("type") != DID_AUTHENTICATION or "acceptedMethods" not in query:
            continue
        names = {m.get("method") if isinstance(m, Mapping) else m for m in as_list(query["acceptedMethods"])}
        if method not in names:
            raise UnsupportedRequestError(f"the request accepts DID methods {sorted(map(str, names))}, not "
                                          f"did:{method}")


def _credential_queries(query_list: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for query in query_list:
        if query.get("type") != QUERY_BY_EXAMPLE:
            continue
        wanted = as_list(query.get("credentialQuery"))
        if not wanted or not all(isinstance(w, Mapping) for w in wanted):
            raise UnsupportedRequestError("a QueryByExample query needs credentialQuery objects")
        out.extend(wanted)
    return out


def _example_types(credential_query: Mapping[str, Any]) -> set[str]:
    example = credential_query.get("example")
    if not isinstance(example, Mapping):
        raise UnsupportedRequestError("a credentialQuery needs an example object")
    types = {t for t in as_list(example.get("type")) if isinstance(t, str)} - {_BASE_TYPE}
    if not types:
        raise UnsupportedRequestError("a credentialQuery example must name a credential type")
    return types


def _required_issuers(credential_query: Mapping[str, Any]) -> set[str] | None:
    trusted = [t for t in as_list(credential_query.get("trustedIssuer")) if isinstance(t, Mapping)]
    required = {t["issuer"] for t in trusted if t.get("required") and isinstance(t.get("issuer"), str)}
    return required or None


def valid_at(credential: Mapping[str, Any], now: datetime) -> bool:
    """True when ``now`` lies in the credential's [validFrom, validUntil] (VCDM 2.0 §4.9)."""
    try:
        if "validFrom" in credential and parse_datetime(credential["validFrom"], name="validFrom") > now:
            return False
        return not ("validUntil" in credential and parse_datetime(credential["validUntil"], name="validUntil") < now)
    except ChopmarkError:
        return False


def subject_ids(credential: Mapping[str, Any]) -> list[str]:
    """The ``id`` of every credential subject."""
    return [s["id"] for s in as_list(credential.get("credentialSubject"))
            if isinstance(s, Mapping) and isinstance(s.get("id"), str)]


def _answer(credential_query: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], holder: str,
            now: datetime) -> Mapping[str, Any]:
    types = _example_types(credential_query)
    issuers = _required_issuers(credential_query)
    candidates = [e for e in entries
                  if types.issubset(e["types"]) and holder in subject_ids(e["credential"])
                  and valid_at(e["credential"], now) and (issuers is None or e["issuer"] in issuers)]
    if not candidates:
        wanted = ", ".join(sorted(types))
        reason = credential_query.get("reason")
        why = f" (asked: {reason})" if isinstance(reason, str) else ""
        raise NoMatchingCredentialError(f"no valid {wanted} about {holder} in the wallet{why}")
    # the newest: latest validFrom, then the latest received (both compared as instants)
    return max(candidates, key=lambda e: (_instant(e["credential"].get("validFrom")), _instant(e.get("received"))))


def _instant(value: Any) -> datetime:
    try:
        return parse_datetime(value)
    except ChopmarkError:
        return datetime.min.replace(tzinfo=UTC)


def _one_of(credential_queries: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]], holder: str,
            now: datetime, accepted: set[str]) -> list[Mapping[str, Any]]:
    """The one entry answering the first answerable query among those asking only for ``accepted`` types."""
    allowed = [q for q in credential_queries if ANY_TYPE in accepted or _example_types(q) <= accepted]
    if credential_queries and not allowed:
        raise UnsupportedRequestError(f"the request asks for none of the types the site accepts "
                                      f"({', '.join(sorted(accepted))}); nothing was presented")
    for credential_query in allowed:
        try:
            return [_answer(credential_query, entries, holder, now)]
        except NoMatchingCredentialError:
            continue
    if allowed:
        wanted = " or ".join(sorted(set().union(*(_example_types(q) for q in allowed))))
        raise NoMatchingCredentialError(f"no valid {wanted} about {holder} in the wallet")
    return []


def select(vpr: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], holder: str, now: datetime,
           accepted_types: Collection[str] | None = None) -> tuple[list[Mapping[str, Any]], str]:
    """The entries answering ``vpr`` (one per credentialQuery, no duplicates) and the suite to sign with.
    With ``accepted_types`` (a site's profile) the credential queries are alternatives: one entry, of an
    accepted type (module docstring).

    Raises :class:`NoMatchingCredentialError` when a credentialQuery (with ``accepted_types``: every one) has no
    answer.
    """
    query_list = queries(vpr)
    check_did_method(query_list, holder)
    if accepted_types is not None:
        chosen_one = _one_of(_credential_queries(query_list), entries, holder, now, set(accepted_types))
        return chosen_one, choose_suite(query_list)
    chosen: list[Mapping[str, Any]] = []
    for credential_query in _credential_queries(query_list):
        entry = _answer(credential_query, entries, holder, now)
        if all(entry["id"] != c["id"] for c in chosen):
            chosen.append(entry)
    return chosen, choose_suite(query_list)
