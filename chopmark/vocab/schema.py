"""JSON Schema validation of Chopmark credentials (VC JSON Schema, ``credentialSchema`` of type ``JsonSchema``).

VC Data Model 2.0 §4.11 ("Data Schemas") lets a credential name the schemas it conforms to; Verifiable Credentials
JSON Schema §3 ("JsonSchema") applies a JSON Schema (draft 2020-12 here) to the *whole* credential. Only the
schemas pinned in ``chopmark/vocab/schemas/`` are used: an unknown schema id is reported, never fetched, and the
``$ref`` registry refuses every URL it does not hold.

Formats checked (a JSON Schema ``format`` only constrains strings): ``lei`` (ISO 17442 check digits),
``jurisdiction`` (ISO 3166-1 alpha-2 or ISO 3166-2) and ``date-time`` (an XML Schema ``dateTimeStamp``, the form
VCDM 2.0 §4.9 requires of dates, via :mod:`chopmark.codecs.dates`).

:func:`check_schemas` never raises for any input; :func:`validate_for_issuance` raises the first violation.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from chopmark.codecs import jcs
from chopmark.codecs.dates import parse_datetime
from chopmark.errors import ChopmarkError, MalformedValueError, SchemaValidationError
from chopmark.integrity.checks import CheckResult
from chopmark.jsonld.validation import check_plain_json
from chopmark.jsonld.values import as_list
from chopmark.vocab import SCHEMA_BASE, SCHEMA_FOR_TYPE
from chopmark.vocab.identifiers import jurisdiction_valid, lei_valid

CHECK = "schema"
#: VC JSON Schema §3.1: the credentialSchema type whose id names a JSON Schema document.
SCHEMA_TYPE = "JsonSchema"
#: At most this many problems are reported per credential (a hostile document can hold millions).
MAX_PROBLEMS = 50
#: At most this many credentialSchema entries are honoured (each validates the whole credential).
MAX_SCHEMAS = 8
_MAX_DETAIL = 300
_SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _file_for(url: str) -> str:
    # https://chopmark.org/schemas/merchant-identity/v1 -> merchant-identity-v1.json
    return url[len(SCHEMA_BASE):].replace("/", "-") + ".json"


def schema_urls() -> frozenset[str]:
    """The ids of every pinned schema."""
    return frozenset(SCHEMA_FOR_TYPE.values())


@functools.lru_cache(maxsize=16)
def _pinned(url: str) -> Mapping[str, Any]:
    # Pinned files are parsed strictly and must carry their own id: a renamed file cannot stand in for another.
    document = jcs.loads_strict((_SCHEMAS / _file_for(url)).read_bytes())
    if not isinstance(document, dict) or document.get("$id") != url:
        raise SchemaValidationError(f"the pinned schema file for {url} does not declare $id {url}",
                                    code="SCHEMA_INTEGRITY")
    Draft202012Validator.check_schema(document)
    return document


def schema_document(url: str) -> dict[str, Any]:
    """A fresh copy of the pinned schema ``url``; raises :class:`SchemaValidationError` (``UNKNOWN_SCHEMA``)
    for any other URL."""
    if url not in schema_urls():
        raise SchemaValidationError(f"{url!r} is not a pinned schema", code="UNKNOWN_SCHEMA")
    return copy.deepcopy(dict(_pinned(url)))


# --- formats ----------------------------------------------------------------------------------------------------

def _date_time(value: object) -> bool:
    if isinstance(value, str):
        parse_datetime(value, require_zone=True, name="date-time")  # raises MalformedValueError
    return True


def _format_checker() -> FormatChecker:
    # JSON Schema 2020-12 §7.1: a format applies only to instances of its type (strings); others pass.
    checker = FormatChecker(formats=())
    checker.checks("lei")(lambda value: not isinstance(value, str) or lei_valid(value))
    checker.checks("jurisdiction")(lambda value: not isinstance(value, str) or jurisdiction_valid(value))
    checker.checks("date-time", raises=MalformedValueError)(_date_time)
    return checker


@functools.lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    # Only the pinned schemas can be referenced; the default retrieve of an empty Registry refuses any other URL.
    resources = [(url, Resource.from_contents(_pinned(url))) for url in sorted(schema_urls())]
    return Registry().with_resources(resources)


@functools.lru_cache(maxsize=16)
def _validator(url: str) -> Draft202012Validator:
    # Validators are immutable once built; one per schema, built on first use.
    return Draft202012Validator(_pinned(url), format_checker=_format_checker(), registry=_registry())


# --- checking ---------------------------------------------------------------------------------------------------

def _pointer(path: Iterable[Any]) -> str:
    # RFC 6901 escaping of each segment; written without the leading "/" like every other Chopmark pointer.
    return "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _readable(error: ValidationError) -> ValidationError:
    # anyOf/oneOf say only "is not valid under any of the given schemas": report the most relevant branch,
    # ignoring the branches whose type does not even match the value (an object is not "not an array").
    while error.context:
        fitting = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        deeper = best_match(fitting or error.context)
        if deeper is None:
            break
        error = deeper
    return error


def _to_error(error: ValidationError, url: str) -> SchemaValidationError:
    error = _readable(error)
    pointer = _pointer(error.absolute_path)
    message = error.message if len(error.message) <= _MAX_DETAIL else error.message[:_MAX_DETAIL] + "..."
    return SchemaValidationError(f"{pointer or '(the credential)'}: {message}", pointer=pointer, schema=url,
                                 keyword=str(error.validator))


def _validate(credential: Mapping[str, Any], url: str, budget: int) -> list[ChopmarkError]:
    out: list[ChopmarkError] = []
    for error in _validator(url).iter_errors(credential):
        out.append(_to_error(error, url))
        if len(out) >= budget:
            break
    # deterministic order: by location, then message
    return sorted(out, key=lambda e: (e.pointer or "", e.detail))


def _check_entry(credential: Mapping[str, Any], entry: Any, where: str, budget: int) -> list[ChopmarkError]:
    # VC JSON Schema §3: each credentialSchema entry is {"id": <schema URL>, "type": "JsonSchema"}
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
        return [MalformedValueError(f"{where} must be an object with an id URL", pointer=where)]
    url, kind = entry["id"], entry.get("type")
    if kind != SCHEMA_TYPE:
        return [SchemaValidationError(f"{where}/type {kind!r} is not supported (only {SCHEMA_TYPE})",
                                      pointer=f"{where}/type", code="UNSUPPORTED_SCHEMA_TYPE")]
    if url not in schema_urls():
        # Never fetched: only the pinned schemas are known.
        return [SchemaValidationError(f"schema {url[:200]!r} is not known to this verifier", pointer=f"{where}/id",
                                      code="UNKNOWN_SCHEMA")]
    return _validate(credential, url, budget)


def schema_errors(credential: Any) -> tuple[list[ChopmarkError], list[str]]:
    """Every violation of the schemas ``credential`` names, and the schema ids it was validated against.

    Never raises for any input: non-JSON and over-deep documents are reported as errors.
    """
    try:
        check_plain_json(credential)
    except ChopmarkError as exc:
        return [exc], []
    if not isinstance(credential, Mapping):
        return [MalformedValueError("a credential must be a JSON object")], []
    raw = credential.get("credentialSchema")
    entries = as_list(raw)
    if len(entries) > MAX_SCHEMAS:
        return [SchemaValidationError(f"more than {MAX_SCHEMAS} credentialSchema entries",
                                      pointer="credentialSchema")], []
    errors: list[ChopmarkError] = []
    checked: list[str] = []
    for index, entry in enumerate(entries):
        where = f"credentialSchema/{index}" if isinstance(raw, list) else "credentialSchema"
        found = _check_entry(credential, entry, where, MAX_PROBLEMS - len(errors))
        if not found:
            checked.append(entry["id"])
        errors.extend(found)
        if len(errors) >= MAX_PROBLEMS:
            break
    return errors, checked


def check_schemas(credential: Any) -> CheckResult:
    """The ``schema`` check: validate ``credential`` against each schema its ``credentialSchema`` names.

    Problem codes: ``SCHEMA_INVALID`` (one per violation, ``pointer`` = the failing location), ``UNKNOWN_SCHEMA``
    (an id that is not pinned; nothing is fetched), ``UNSUPPORTED_SCHEMA_TYPE`` (a type other than
    ``JsonSchema``). A credential without ``credentialSchema`` passes with no schema checked.
    """
    errors, checked = schema_errors(credential)
    if errors:
        return CheckResult.failed(CHECK, errors, schemas=checked)
    return CheckResult.ok(CHECK, schemas=checked)


def validate_for_issuance(credential: Mapping[str, Any]) -> None:
    """Raise the first schema violation of ``credential`` (a :class:`SchemaValidationError`, HTTP 422) before
    it is signed; a credential without ``credentialSchema`` is not checked."""
    errors, _ = schema_errors(credential)
    if errors:
        raise errors[0]


#: The name the shared design uses for :func:`validate_for_issuance`.
validate_or_raise = validate_for_issuance
