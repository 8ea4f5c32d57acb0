"""DIF Well-Known DID Configuration: prove that the controller of a DID also controls a web origin.

An origin publishes ``/.well-known/did-configuration.json`` (the *DID Configuration resource*), whose
``linked_dids`` hold one Domain Linkage Credential per linked DID. Only the JSON Web Token proof format is
produced and verified here (linked-data-proof entries are skipped, not trusted). The rules implemented, by the
specification's sections:

* DID Configuration Resource: ``@context`` is exactly :data:`CONFIG_CONTEXT`; ``linked_dids`` is an array.
* Domain Linkage Credential: ``@context`` holds the VC 1.1 and the did-configuration contexts; ``type`` holds
  ``VerifiableCredential`` and ``DomainLinkageCredential``; ``issuer`` = ``credentialSubject.id`` = the DID;
  ``credentialSubject.origin`` is the origin the resource was fetched from; ``issuanceDate`` and
  ``expirationDate`` are present.
* JSON Web Token Proof Format: header ``alg`` present and not ``none``, ``kid`` a verification method of the
  DID; payload ``iss`` = ``sub`` = the DID, ``nbf`` = ``issuanceDate``, ``exp`` = ``expirationDate`` (NumericDate),
  ``vc`` the credential.

Hardening beyond the specification (see STYLE.md, "Traps"): strict unpadded base64url that round-trips, I-JSON
header and payload (no duplicate members), ``crit`` refused, the algorithm pinned to the key type (EdDSA for
Ed25519, ES256 for P-256, ES384 for P-384), raw signatures of the wrong length refused, the key listed under
``assertionMethod`` of the DID itself.

Pure: the clock (``now``) and the DID resolver are parameters; :func:`verify_configuration` never raises for a
bad document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chopmark.codecs import jcs, multibase
from chopmark.codecs.dates import format_datetime, parse_datetime
from chopmark.errors import (
    ChopmarkError,
    CryptographicSecurityError,
    MalformedValueError,
    RangeError,
    UsageError,
)
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.proofs import MethodResolver, SignerLike
from chopmark.jsonld.validation import check_plain_json
from chopmark.keys import KeyType

CHECK = "domainLinkage"
CONFIG_CONTEXT = "https://identity.foundation/.well-known/did-configuration/v1"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
CREDENTIAL_TYPE = "DomainLinkageCredential"
#: Where an origin publishes its DID Configuration resource (RFC 8615 well-known URI).
WELL_KNOWN_PATH = "/.well-known/did-configuration.json"
#: The JWS algorithm a key of each type signs with (RFC 8037 §3.1, RFC 7518 §3.4).
ALG_FOR_KEY = {KeyType.ED25519: "EdDSA", KeyType.P256: "ES256", KeyType.P384: "ES384"}
#: The algorithms accepted for a key of each type ("Ed25519" is the fully-specified name of EdDSA over
#: Ed25519, RFC 9864 §2.2); a JWK's own "alg" member is held to the same sets by chopmark.keys.
_ACCEPTED_ALGS = {KeyType.ED25519: frozenset({"EdDSA", "Ed25519"}), KeyType.P256: frozenset({"ES256"}),
                  KeyType.P384: frozenset({"ES384"})}
#: Raw signature length per key type (RFC 8032 §5.1.6; RFC 7518 §3.4: R || S, each the size of the order).
_SIGNATURE_LENGTH = {KeyType.ED25519: 64, KeyType.P256: 64, KeyType.P384: 96}
#: Longest JWT considered; at most this many JWTs naming the DID are verified.
MAX_JWT_CHARS = 16_384
MAX_CANDIDATES = 10

_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)"
_ORIGIN = re.compile(rf"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://(?P<host>{_HOST})(?::(?P<port>[0-9]{{1,5}}))?")
_DEFAULT_PORT = {"https": 443, "http": 80}

# error codes
MISSING = "DOMAIN_LINKAGE_MISSING"
INVALID = "DOMAIN_LINKAGE_INVALID"
SIGNATURE = "DOMAIN_LINKAGE_SIGNATURE"
EXPIRED = "DOMAIN_LINKAGE_EXPIRED"
NOT_YET_VALID = "DOMAIN_LINKAGE_NOT_YET_VALID"


def normalize_origin(value: object) -> str | None:
    """The serialized origin (WHATWG HTML §7.1 "origin": ``scheme://host[:port]``) of an http(s) origin string,
    lower-cased with the default port dropped; ``None`` when ``value`` is not exactly an origin (a path, query,
    fragment, user info or trailing slash makes it something else)."""
    if not isinstance(value, str) or len(value) > 300:
        return None
    match = _ORIGIN.fullmatch(value)
    if match is None:
        return None
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if port is not None and not 0 < int(port) <= 65535:
        return None
    if port is None or int(port) == _DEFAULT_PORT[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


# --- creation ---------------------------------------------------------------------------------------------------

def _b64json(value: Mapping[str, Any]) -> str:
    return multibase.base64url_encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _alg_for(algorithm: str) -> str:
    try:
        return ALG_FOR_KEY[KeyType(algorithm)]
    except ValueError:
        raise UsageError(f"no JWS algorithm for key type {algorithm!r}") from None


def create_linkage_jwt(did: str, origin: str, signer: SignerLike, *, issued: datetime, expires: datetime) -> str:
    """A Domain Linkage Credential in the JSON Web Token proof format, signed by ``signer`` (a key of ``did``)."""
    normalized = normalize_origin(origin)
    if not isinstance(did, str) or not did.startswith("did:"):
        raise UsageError(f"not a DID: {did!r}")
    if normalized is None:
        raise UsageError(f"not an http(s) origin (scheme://host[:port]): {origin!r}")
    if not signer.id.startswith(did + "#"):
        raise UsageError(f"the signer {signer.id!r} is not a verification method of {did}")
    alg = _alg_for(signer.algorithm)
    if issued.tzinfo is None or expires.tzinfo is None or expires <= issued:
        raise UsageError("issued and expires must be timezone-aware, with expires after issued")
    issued, expires = issued.replace(microsecond=0), expires.replace(microsecond=0)
    header = {"alg": alg, "kid": signer.id}
    credential = {
        "@context": [VC_V1_CONTEXT, CONFIG_CONTEXT],
        "issuer": did,
        "issuanceDate": format_datetime(issued),
        "expirationDate": format_datetime(expires),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "credentialSubject": {"id": did, "origin": normalized},
    }
    # JSON Web Token Proof Format: exp/nbf mirror expirationDate/issuanceDate, iss = sub = the DID
    payload = {"exp": int(expires.timestamp()), "iss": did, "nbf": int(issued.timestamp()), "sub": did,
               "vc": credential}
    signing_input = f"{_b64json(header)}.{_b64json(payload)}"
    return f"{signing_input}.{multibase.base64url_encode(signer.sign(signing_input.encode('ascii')))}"


def create_configuration(did: str, origin: str, signer: SignerLike, *, issued: datetime,
                         expires: datetime) -> dict[str, Any]:
    """The DID Configuration resource linking ``did`` to ``origin`` (serve it at :data:`WELL_KNOWN_PATH`)."""
    jwt = create_linkage_jwt(did, origin, signer, issued=issued, expires=expires)
    return {"@context": CONFIG_CONTEXT, "linked_dids": [jwt]}


# --- verification -----------------------------------------------------------------------------------------------

def _invalid(detail: str, pointer: str) -> MalformedValueError:
    return MalformedValueError(detail, pointer=pointer, code=INVALID)


def _json_segment(text: str, what: str, where: str) -> dict[str, Any]:
    # RFC 7515 §5.2 steps 2-3 / RFC 7519 §7.2 steps 7-8: base64url-decode, then parse as a JSON object
    try:
        value = jcs.loads_strict(multibase.base64url_decode(text))
    except ChopmarkError as exc:
        raise _invalid(f"the JWT {what} is not base64url-encoded I-JSON: {exc.detail}", where) from None
    if not isinstance(value, dict):
        raise _invalid(f"the JWT {what} is not a JSON object", where)
    return value


def _decode(token: str, where: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, payload, signing input and raw signature of a compact JWS (RFC 7515 §7.1)."""
    if len(token) > MAX_JWT_CHARS:
        raise _invalid(f"the JWT is longer than {MAX_JWT_CHARS} characters", where)
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise _invalid("a JWT has three non-empty base64url parts separated by '.'", where)
    header = _json_segment(parts[0], "header", where)
    payload = _json_segment(parts[1], "payload", where)
    try:
        signature = multibase.base64url_decode(parts[2])
    except ChopmarkError:
        raise _invalid("the JWT signature is not strict base64url", where) from None
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _check_credential(vc: Any, did: str, origin: str, where: str) -> list[ChopmarkError]:
    # Domain Linkage Credential: contexts, types, issuer = subject id = the DID, origin (``origin`` is normalized)
    if not isinstance(vc, Mapping):
        return [_invalid("the JWT payload has no vc object", f"{where}/vc")]
    errors: list[ChopmarkError] = []
    contexts = vc.get("@context")
    if not isinstance(contexts, list) or contexts[:1] != [VC_V1_CONTEXT] or CONFIG_CONTEXT not in contexts:
        errors.append(_invalid(f"vc @context must list {VC_V1_CONTEXT} then {CONFIG_CONTEXT}", f"{where}/vc"))
    types = vc.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types or CREDENTIAL_TYPE not in types:
        errors.append(_invalid(f"vc type must hold VerifiableCredential and {CREDENTIAL_TYPE}", f"{where}/vc"))
    issuer = vc.get("issuer")
    if (issuer.get("id") if isinstance(issuer, Mapping) else issuer) != did:
        errors.append(_invalid(f"vc issuer is not {did}", f"{where}/vc/issuer"))
    subject = vc.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("id") != did:
        errors.append(_invalid(f"vc credentialSubject.id is not {did}", f"{where}/vc/credentialSubject"))
    elif normalize_origin(subject.get("origin")) != origin:
        errors.append(_invalid(f"the credential links {did} to origin {str(subject.get('origin'))[:100]!r}, "
                               f"not {origin!r}", f"{where}/vc/credentialSubject/origin"))
    return errors


def _numeric_date(payload: Mapping[str, Any], claim: str, where: str) -> float:
    # RFC 7519 §2 NumericDate: a JSON number of seconds since the epoch
    value = payload.get(claim)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"the JWT {claim} claim must be a NumericDate", f"{where}/{claim}")
    return float(value)


def _matches_date(vc: Any, member: str, seconds: float) -> bool:
    # nbf = issuanceDate and exp = expirationDate, to the second (VC 1.1 dates are xsd:dateTime, zone optional)
    try:
        moment = parse_datetime(vc.get(member) if isinstance(vc, Mapping) else None, require_zone=False,
                                name=member)
    except ChopmarkError:
        return False
    return math.floor(moment.timestamp()) == math.floor(seconds)


def _check_times(payload: Mapping[str, Any], now: datetime, skew: timedelta, where: str) -> list[ChopmarkError]:
    try:
        nbf = _numeric_date(payload, "nbf", where)
        exp = _numeric_date(payload, "exp", where)
    except ChopmarkError as exc:
        return [exc]
    errors: list[ChopmarkError] = []
    vc = payload.get("vc")
    if not _matches_date(vc, "issuanceDate", nbf) or not _matches_date(vc, "expirationDate", exp):
        errors.append(_invalid("nbf/exp must equal the vc's issuanceDate/expirationDate", f"{where}/vc"))
    current, allowed = now.timestamp(), skew.total_seconds()
    if nbf - current > allowed:
        errors.append(RangeError(f"the domain linkage is not valid before NumericDate {nbf:.0f}",
                                 pointer=f"{where}/nbf", code=NOT_YET_VALID))
    if current - exp > allowed:
        errors.append(RangeError(f"the domain linkage expired at NumericDate {exp:.0f}", pointer=f"{where}/exp",
                                 code=EXPIRED))
    return errors


def _check_signature(header: Mapping[str, Any], signing_input: bytes, signature: bytes, did: str,
                     resolver: MethodResolver, where: str) -> list[ChopmarkError]:
    # JWT proof format: alg present and not "none"; kid a DID URL of the DID, listed under assertionMethod
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg == "none":
        return [_invalid("the JWT header alg must be present and not 'none'", f"{where}/alg")]
    if "crit" in header:  # RFC 7515 §4.1.11: extensions we do not understand must be refused
        return [_invalid("the JWT header carries crit extensions, which are not supported", f"{where}/crit")]
    if isinstance(kid, str) and kid.startswith("#"):
        kid = did + kid
    if not isinstance(kid, str) or not kid.startswith(did + "#"):
        return [_invalid(f"the JWT header kid must be a verification method of {did}", f"{where}/kid")]
    try:
        method, key = resolver.resolve_verification_method(kid, "assertionMethod")
    except ChopmarkError as exc:
        return [exc]
    if method.get("controller") != did:
        return [_invalid(f"{kid} is not controlled by {did}", f"{where}/kid")]
    if alg not in _ACCEPTED_ALGS[key.key_type]:  # the algorithm is pinned to the key type, never chosen by the JWT
        return [_invalid(f"alg {alg[:20]!r} does not fit the {key.key_type.value} key {kid}", f"{where}/alg")]
    # RFC 7515 §5.2 step 8: validate the signature; raw signatures of the wrong length are refused first
    if len(signature) != _SIGNATURE_LENGTH[key.key_type] or not key.verify(signature, signing_input):
        return [CryptographicSecurityError(f"the domain linkage JWT signature does not verify with {kid}",
                                           pointer=where, code=SIGNATURE)]
    return []


def _verify_jwt(token: str, did: str, origin: str, resolver: MethodResolver, now: datetime, skew: timedelta,
                where: str) -> list[ChopmarkError]:
    """Every problem of one Domain Linkage JWT that names ``did`` (none: it links ``did`` to ``origin``)."""
    try:
        header, payload, signing_input, signature = _decode(token, where)
    except ChopmarkError as exc:
        return [exc]
    errors: list[ChopmarkError] = []
    if payload.get("iss") != did or payload.get("sub") != did:
        errors.append(_invalid(f"the JWT iss and sub must both be {did}", where))
    errors += _check_credential(payload.get("vc"), did, origin, where)
    errors += _check_times(payload, now, skew, where)
    errors += _check_signature(header, signing_input, signature, did, resolver, where)
    return errors


def _names_did(token: str, did: str) -> bool:
    # A JWT is a candidate when its (unverified) payload names the DID as iss, sub or credentialSubject.id;
    # only the payload is read here, so a broken header or signature is reported, not silently skipped.
    parts = token.split(".")
    if len(token) > MAX_JWT_CHARS or len(parts) != 3:
        return False
    try:
        payload = _json_segment(parts[1], "payload", "")
    except ChopmarkError:
        return False
    vc = payload.get("vc")
    subject = vc.get("credentialSubject") if isinstance(vc, Mapping) else None
    subject_id = subject.get("id") if isinstance(subject, Mapping) else None
    return did in (payload.get("iss"), payload.get("sub"), subject_id)


def _parse_configuration(document: bytes | str | Mapping[str, Any]) -> list[Any]:
    """The ``linked_dids`` of a DID Configuration resource, parsed strictly (I-JSON, no duplicate members)."""
    parsed = jcs.loads_strict(document) if isinstance(document, bytes | bytearray | str) else document
    check_plain_json(parsed)
    if not isinstance(parsed, Mapping):
        raise _invalid("a DID Configuration resource is a JSON object", "")
    if parsed.get("@context") != CONFIG_CONTEXT:
        raise _invalid(f"the DID Configuration @context must be {CONFIG_CONTEXT}", "@context")
    linked = parsed.get("linked_dids")
    if not isinstance(linked, list):
        raise _invalid("linked_dids must be an array of domain linkage credentials", "linked_dids")
    return linked


def verify_configuration(document: bytes | str | Mapping[str, Any], did: str, origin: str,
                         resolver: MethodResolver, now: datetime,
                         max_clock_skew: timedelta = timedelta(minutes=5)) -> CheckResult:
    """The ``domainLinkage`` check: does the DID Configuration ``document`` (fetched from ``origin``) hold a
    valid JWT Domain Linkage Credential linking ``did`` to ``origin`` at ``now``?

    Passes when one such credential verifies. Problem codes: ``DOMAIN_LINKAGE_MISSING`` (no JWT names the DID),
    ``DOMAIN_LINKAGE_INVALID`` (malformed resource or credential, other origin, alg/kid misuse),
    ``DOMAIN_LINKAGE_SIGNATURE``, ``DOMAIN_LINKAGE_EXPIRED``, ``DOMAIN_LINKAGE_NOT_YET_VALID``, and DID
    resolution errors for the ``kid``.
    """
    expected = normalize_origin(origin)
    try:
        if expected is None:
            raise _invalid(f"{str(origin)[:100]!r} is not an http(s) origin (scheme://host[:port])", "")
        linked = _parse_configuration(document)
    except ChopmarkError as exc:
        return CheckResult.failed(CHECK, [exc], did=did, origin=origin)
    candidates = [(index, entry) for index, entry in enumerate(linked)
                  if isinstance(entry, str) and _names_did(entry, did)][:MAX_CANDIDATES]
    skipped = sum(1 for entry in linked if not isinstance(entry, str))  # linked-data-proof form: not supported
    if not candidates:
        error = MalformedValueError(f"no JWT domain linkage credential for {did} in the DID configuration",
                                    pointer="linked_dids", code=MISSING)
        return CheckResult.failed(CHECK, [error], did=did, origin=origin, skipped=skipped)
    errors: list[ChopmarkError] = []
    for index, token in candidates:
        found = _verify_jwt(token, did, expected, resolver, now, max_clock_skew, f"linked_dids/{index}")
        if not found:
            return CheckResult.ok(CHECK, did=did, origin=expected, index=index)
        errors.extend(found)
    return CheckResult.failed(CHECK, errors, did=did, origin=origin, skipped=skipped)
