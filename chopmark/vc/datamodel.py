"""VC Data Model 2.0 rules (and the VC 1.1 date fields), checked at issue and at verify.

Each ``check_*`` function returns the list of errors it found (empty when conforming), so verification can
name every failure; issuing raises the first. Section numbers refer to VC Data Model 2.0 (REC, 2025).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError, MalformedValueError, RangeError
from chopmark.integrity.checks import CheckResult
from chopmark.jsonld.loader import DocumentLoader
from chopmark.jsonld.validation import check_jsonld, check_plain_json
from chopmark.jsonld.values import as_list
from chopmark.vc.related import digest_syntax_errors

V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"

# RFC 3986 §3: scheme ":" hier-part; we require a scheme and no characters that can never appear in a URL.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_LANGUAGE_KEYS = frozenset({"@value", "@language", "@direction"})


def is_url(value: Any) -> bool:
    """True when ``value`` is a string holding an absolute URL (RFC 3986 §4.3), e.g. ``did:``, ``urn:``."""
    return isinstance(value, str) and _URL.match(value) is not None


def context_version(document: Mapping[str, Any]) -> int | None:
    """2 for a VC 2.0 document, 1 for VC 1.1, None when the first context is neither."""
    first = as_list(document.get("@context"))[:1]
    if first == [V2_CONTEXT]:
        return 2
    if first == [V1_CONTEXT]:
        return 1
    return None


def check_contexts(document: Mapping[str, Any]) -> list[ChopmarkError]:
    """§4.3 Contexts: an ordered set whose first item is the base context; items are URLs or objects."""
    if "@context" not in document:
        return [MalformedValueError("@context is required", pointer="@context")]
    errors: list[ChopmarkError] = []
    if context_version(document) is None:
        errors.append(MalformedValueError(f"the first @context must be {V2_CONTEXT}", pointer="@context"))
    for index, item in enumerate(as_list(document["@context"])):
        if isinstance(item, str):
            if not is_url(item):
                errors.append(MalformedValueError(f"@context item {item!r} is not a URL",
                                                  pointer=f"@context/{index}"))
        elif not isinstance(item, Mapping):
            errors.append(MalformedValueError("@context items must be URLs or objects",
                                              pointer=f"@context/{index}"))
    return errors


def check_id(value: Any, pointer: str) -> list[ChopmarkError]:
    """§4.4 Identifiers: when present, ``id`` is a single URL."""
    if not is_url(value):
        return [MalformedValueError(f"{pointer} must be a single URL", pointer=pointer)]
    return []


def check_types(document: Mapping[str, Any], required: str, pointer: str = "type") -> list[ChopmarkError]:
    """§4.5 Types: ``type`` is a string or list of strings and includes ``required``."""
    types = document.get("type")
    if types is None:
        return [MalformedValueError(f"{pointer} is required", pointer=pointer)]
    values = as_list(types)
    if not values or not all(isinstance(t, str) and t for t in values):
        return [MalformedValueError(f"{pointer} must be a string or a list of strings", pointer=pointer)]
    if required and required not in values:
        return [MalformedValueError(f"{pointer} must include {required!r}", pointer=pointer)]
    return []


def check_language_value(value: Any, pointer: str) -> list[ChopmarkError]:
    """§4.6 Names and Descriptions: a string, a language value object, or a list of them."""
    for index, item in enumerate(as_list(value)):
        where = pointer if not isinstance(value, list) else f"{pointer}/{index}"
        if isinstance(item, str):
            continue
        if not isinstance(item, Mapping) or not isinstance(item.get("@value"), str):
            return [MalformedValueError(f"{where} must be a string or a language value object", pointer=where)]
        if set(item) - _LANGUAGE_KEYS:
            return [MalformedValueError(f"{where} has members other than @value/@language/@direction",
                                        pointer=where)]
        if "@direction" in item and item["@direction"] not in ("ltr", "rtl"):
            return [MalformedValueError(f"{where}/@direction must be 'ltr' or 'rtl'", pointer=where)]
        if "@language" in item and not isinstance(item["@language"], str):
            return [MalformedValueError(f"{where}/@language must be a string", pointer=where)]
    return []


def check_names(document: Mapping[str, Any], pointer: str = "") -> list[ChopmarkError]:
    """Check ``name`` and ``description`` of an object."""
    errors: list[ChopmarkError] = []
    for key in ("name", "description"):
        if key in document:
            errors += check_language_value(document[key], f"{pointer}{key}")
    return errors


def check_issuer(document: Mapping[str, Any]) -> list[ChopmarkError]:
    """§4.7 Issuer: a URL, or an object whose ``id`` is a URL."""
    if "issuer" not in document:
        return [MalformedValueError("issuer is required", pointer="issuer")]
    issuer = document["issuer"]
    if isinstance(issuer, Mapping):
        return check_id(issuer.get("id"), "issuer/id") + check_names(issuer, "issuer/")
    return check_id(issuer, "issuer")


def issuer_id(document: Mapping[str, Any]) -> str | None:
    """The issuer's URL, from the string or object form."""
    issuer = document.get("issuer")
    value = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return value if isinstance(value, str) else None


def check_subjects(document: Mapping[str, Any]) -> list[ChopmarkError]:
    """§4.8 Credential Subject: one or more objects, each with at least one claim; ``id`` a single URL."""
    subjects = document.get("credentialSubject")
    if subjects is None:
        return [MalformedValueError("credentialSubject is required", pointer="credentialSubject")]
    items = as_list(subjects)
    if not items:
        return [MalformedValueError("credentialSubject must not be empty", pointer="credentialSubject")]
    errors: list[ChopmarkError] = []
    for index, subject in enumerate(items):
        where = "credentialSubject" if not isinstance(subjects, list) else f"credentialSubject/{index}"
        if not isinstance(subject, Mapping) or not subject:
            errors.append(MalformedValueError(f"{where} must be an object with at least one claim",
                                              pointer=where))
        elif "id" in subject:
            errors += check_id(subject["id"], f"{where}/id")
    return errors


def check_validity_fields(document: Mapping[str, Any]) -> list[ChopmarkError]:
    """§4.9 Validity Period (``validFrom``/``validUntil``), or VC 1.1 ``issuanceDate``/``expirationDate``."""
    if context_version(document) == 1:
        return _check_v1_dates(document)
    errors: list[ChopmarkError] = []
    parsed = {}
    for key in ("validFrom", "validUntil"):
        if key in document:
            try:
                parsed[key] = parse_datetime(document[key], name=key)
            except ChopmarkError as exc:
                errors.append(exc)
    if len(parsed) == 2 and parsed["validFrom"] > parsed["validUntil"]:
        errors.append(RangeError("validUntil is before validFrom", pointer="validUntil"))
    return errors


def _check_v1_dates(document: Mapping[str, Any]) -> list[ChopmarkError]:
    errors: list[ChopmarkError] = []
    if "issuanceDate" not in document:
        errors.append(MalformedValueError("issuanceDate is required in a VC 1.1 credential",
                                          pointer="issuanceDate"))
    for key in ("issuanceDate", "expirationDate"):
        if key in document:
            try:
                parse_datetime(document[key], require_zone=False, name=key)
            except ChopmarkError as exc:
                errors.append(exc)
    return errors


def _typed_objects(document: Mapping[str, Any], key: str) -> Iterator[tuple[str, Any]]:
    value = document[key]
    for index, item in enumerate(as_list(value)):
        yield (key if not isinstance(value, list) else f"{key}/{index}"), item


def check_typed_members(document: Mapping[str, Any]) -> list[ChopmarkError]:
    """§4.10 status, §4.11 schema, §5.4 refresh, §5.5 terms of use, §5.6 evidence: each object has ``type``.

    ``credentialSchema`` also needs an ``id`` URL; any ``id`` present must be a single URL.
    """
    errors: list[ChopmarkError] = []
    for key in ("credentialStatus", "credentialSchema", "refreshService", "termsOfUse", "evidence", "proof"):
        if key not in document:
            continue
        for where, item in _typed_objects(document, key):
            if not isinstance(item, Mapping):
                errors.append(MalformedValueError(f"{where} must be an object", pointer=where))
                continue
            errors += check_types(item, "", f"{where}/type")
            if "id" in item and key != "proof":
                errors += check_id(item["id"], f"{where}/id")
            elif key == "credentialSchema":
                errors.append(MalformedValueError(f"{where}/id is required", pointer=f"{where}/id"))
    return errors


def check_related_resources(document: Mapping[str, Any]) -> list[ChopmarkError]:
    """§5.3 Integrity of Related Resources: unique URL ``id`` and ``digestSRI`` or ``digestMultibase``."""
    if "relatedResource" not in document:
        return []
    errors: list[ChopmarkError] = []
    seen: set[str] = set()
    for where, item in _typed_objects(document, "relatedResource"):
        if not isinstance(item, Mapping):
            errors.append(MalformedValueError(f"{where} must be an object", pointer=where))
            continue
        ident = item.get("id")
        errors += check_id(ident, f"{where}/id")
        if isinstance(ident, str):
            if ident in seen:
                errors.append(MalformedValueError(f"{where}/id repeats another relatedResource", pointer=where))
            seen.add(ident)
        if not ({"digestSRI", "digestMultibase"} & set(item)):
            errors.append(MalformedValueError(f"{where} needs digestSRI or digestMultibase", pointer=where))
    return errors + digest_syntax_errors(document)


#: ``credentialSchema`` types whose schemas this service validates (VC JSON Schema §3.1, §3.2).
CHECKABLE_SCHEMA_TYPES = frozenset({"JsonSchema", "JsonSchemaCredential"})


def split_schemas(document: Mapping[str, Any], types: frozenset[str] = CHECKABLE_SCHEMA_TYPES
                  ) -> tuple[Mapping[str, Any] | None, list[str]]:
    """§4.11 Data Schemas: "validity is determined according to the processing rules outlined by each
    associated type". Returns the document restricted to the entries of ``types`` (None when there is none;
    the document itself when every entry is of ``types``) and the other entries' types, which the caller
    cannot check. Entries that are not objects stay with the checkable ones, whose checker reports them.
    """
    raw = document.get("credentialSchema")
    keep: list[Any] = []
    others: list[str] = []
    for item in as_list(raw):
        kinds = [t for t in as_list(item.get("type")) if isinstance(t, str)] if isinstance(item, Mapping) else []
        if not isinstance(item, Mapping) or any(k in types for k in kinds):
            keep.append(item)
        else:
            others.append(" ".join(kinds) or "(no type)")
    if not others:
        return document, []
    if not keep:
        return None, others
    return {**document, "credentialSchema": keep if isinstance(raw, list) or len(keep) > 1 else keep[0]}, others


def check_credential(document: Any) -> list[ChopmarkError]:
    """Every data-model rule for a credential (§4, §5). An empty list means conforming."""
    if not isinstance(document, Mapping):
        return [MalformedValueError("a credential must be a JSON object")]
    errors = check_contexts(document) + check_types(document, "VerifiableCredential")
    if "id" in document:
        errors += check_id(document["id"], "id")
    errors += check_issuer(document) + check_subjects(document) + check_validity_fields(document)
    errors += check_names(document) + check_typed_members(document) + check_related_resources(document)
    return errors


def data_model_check(document: Any, rules: Callable[[Any], list[ChopmarkError]],
                     loader: DocumentLoader) -> tuple[CheckResult, bool]:
    """The ``dataModel`` check: plain JSON within limits, the data-model ``rules``, then JSON-LD safe mode.

    Also returns whether the document may be processed further (proofs, canonicalization): only a JSON object
    that is plain JSON within limits may.
    """
    try:
        check_plain_json(document)
    except ChopmarkError as exc:
        return CheckResult.failed("dataModel", [exc]), False
    errors = rules(document)
    if not errors:
        try:
            check_jsonld(document, loader)
        except ChopmarkError as exc:
            errors = [exc]
    check = CheckResult.failed("dataModel", errors) if errors else CheckResult.ok("dataModel")
    return check, isinstance(document, Mapping)
