"""JSON schemas (OpenAPI 3.0 dialect) of the VC API's request and response bodies that the roles share, and the
helpers the roles' fragments build their own schemas with (:mod:`.openapi` assembles the document).

Request schemas follow the VC API (VCALM) ``oas.yaml`` and ``components/*.yml`` where those define one
(``IssueCredentialRequest``, ``VerifyCredentialRequest``, ``VerifyPresentationRequest``,
``UpdateCredentialStatusRequest``, ``CreateStatusListRequest``); where this service is stricter (it refuses
unknown members with 400) they say ``additionalProperties: false``. Response schemas describe exactly what the
handlers return, and stay within the VCALM result shapes (``VerificationResult``, ``CreateChallengeResult``,
``VerifiableCredentialResponse``).
"""

from __future__ import annotations

from typing import Any

from chopmark.integrity.suites import ISSUABLE

Schema = dict[str, Any]

V2 = "https://www.w3.org/ns/credentials/v2"
CHECKS = ["proof", "validity", "issuerBinding", "status", "schema"]
ISSUER_NAME = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
STATUS_LIST_ID = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def ref(name: str) -> Schema:
    """A ``$ref`` to ``#/components/schemas/<name>``."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: list[str] | None = None, *, closed: bool = False,
        description: str | None = None, example: Any = None) -> Schema:
    """An object schema; ``closed`` forbids other members (the service answers them with 400)."""
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if closed:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    if example is not None:
        out["example"] = example
    return out


def array(items: Schema, **extra: Any) -> Schema:
    """An array schema."""
    return {"type": "array", "items": items, **extra}


STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
ANY_OBJECT: Schema = {"type": "object"}
STRINGS: Schema = array(STRING)
STRING_OR_STRINGS: Schema = {"anyOf": [STRING, STRINGS]}
OBJECT_OR_OBJECTS: Schema = {"anyOf": [ANY_OBJECT, array(ANY_OBJECT)]}

EXAMPLE_CREDENTIAL = {"@context": [V2], "type": ["VerifiableCredential"],
                      "credentialSubject": {"id": "did:example:merchant-1"}}

_PROBLEM_MEMBERS: dict[str, Schema] = {
    "type": {"type": "string", "description": "URL identifying the problem type (RFC 9457)."},
    "title": {"type": "string", "description": "Short human-readable summary of the problem type."},
    "detail": {"type": "string", "description": "Human-readable explanation of this occurrence."},
    "code": {"type": "string", "description": "Short, stable Chopmark error code (e.g. INVALID_TOKEN)."},
    "specCode": {"type": "integer", "description": "The negative code the W3C specifications assign, if any."},
    "pointer": {"type": "string", "description": "JSON Pointer to the offending member, when known."},
}


def _problem_details() -> Schema:
    """The body of every error response."""
    members = {**_PROBLEM_MEMBERS,
               "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status."},
               "allow": {**STRINGS, "description": "405 only: the methods the resource allows."},
               "retryAfter": {"type": "integer", "minimum": 1, "description": "429 only: seconds to wait."}}
    return obj(members, ["type", "title", "detail", "status", "code"],
               description="An RFC 9457 problem detail, the body of every error response (other members may "
                           "be added). Aligned with VCALM `ProblemDetails`.")


def _result_problem() -> Schema:
    """A problem inside a verification result."""
    members = {**_PROBLEM_MEMBERS,
               "check": {"type": "string", "description": "The check that found the problem (proof, validity, "
                                                          "issuerBinding, status, holderBinding, challenge, ...)."},
               "severity": {"type": "string", "enum": ["warning"],
                            "description": "`warning`: the check was not performed (codes ISSUER_BINDING_NOT_CHECKED, "
                                           "VALIDITY_NOT_CHECKED, STATUS_NOT_CHECKED, SCHEMA_NOT_CHECKED, "
                                           "RELATED_RESOURCE_NOT_CHECKED, CHALLENGE_NOT_CHECKED); a warning does "
                                           "not make `verified` false. Absent: the check failed."}}
    return obj(members, ["type", "title", "detail", "code"],
               description="A problem found while verifying (VCALM `ProblemDetails` with Chopmark members).")


def _context() -> Schema:
    """A JSON-LD ``@context`` as this service returns it (string, or list of URLs and objects)."""
    return {"anyOf": [STRING, array({"anyOf": [STRING, ANY_OBJECT]})],
            "description": "JSON-LD @context: the VCDM base context first."}


def _credential_document() -> Schema:
    """VCALM ``CredentialDocument``: ``@context`` and ``type`` as string arrays, other members allowed."""
    return obj({"@context": STRINGS, "type": STRINGS}, description="An unsigned credential (VCALM `Credential`).",
               example=EXAMPLE_CREDENTIAL)


def _data_integrity_proof() -> Schema:
    """VCALM ``DataIntegrityProof`` (type, verificationMethod and proofPurpose always present)."""
    members = {name: STRING for name in ("id", "type", "cryptosuite", "created", "expires", "nonce",
                                         "verificationMethod", "proofPurpose", "proofValue", "challenge",
                                         "domain")}
    return obj(members, ["type", "verificationMethod", "proofPurpose"],
               description="A Data Integrity proof (VCALM `DataIntegrityProof`).")


def _verifiable_credential() -> Schema:
    """A credential as this service returns it (issued or a status list credential)."""
    return obj({"@context": _context(), "id": STRING, "type": STRING_OR_STRINGS,
                "issuer": {"anyOf": [STRING, obj({"id": STRING}, ["id"])]},
                "credentialSubject": OBJECT_OR_OBJECTS, "credentialStatus": OBJECT_OR_OBJECTS,
                "validFrom": STRING, "validUntil": STRING,
                "proof": {"anyOf": [ref("DataIntegrityProof"), array(ref("DataIntegrityProof"))]}},
               ["@context", "type", "issuer", "proof"],
               description="A secured credential with an embedded Data Integrity proof (VCALM "
                           "`VerifiableCredential`).")


def _checked(extra: dict[str, Schema] | None = None) -> Schema:
    """``{verified, input}`` of one checked member (input a string unless ``extra`` says otherwise)."""
    return obj({"verified": BOOLEAN, "input": STRING, **(extra or {})}, ["verified", "input"])


def _item_result(input_schema: Schema, extra: dict[str, Schema] | None = None) -> Schema:
    """``{verified, input, problemDetails}`` of one proof or status entry."""
    return obj({"verified": BOOLEAN, "input": input_schema, "problemDetails": array(ref("ResultProblem")),
                **(extra or {})}, ["verified", "input"])


def _verification_result() -> Schema:
    """The credential verification result."""
    results = obj({"proof": array(_item_result(ANY_OBJECT)), "validFrom": _checked(), "validUntil": _checked(),
                   "credentialStatus": array(_item_result(ANY_OBJECT, {"value": {"type": "integer"}}))},
                  closed=True)
    return obj({"verified": BOOLEAN, "credential": ANY_OBJECT, "problemDetails": array(ref("ResultProblem")),
                "results": results}, ["verified", "problemDetails"], closed=True,
               description="VCALM `VerificationResult` (VerifyCredentialResult.yml); `verified` is true only "
                           "when every requested check passed.")


def _presentation_result() -> Schema:
    """The presentation verification result."""
    own = obj({"challenge": _checked(), "domain": _checked(), "holder": _checked(),
               "proof": array(_item_result(ANY_OBJECT))}, closed=True)
    results = obj({"presentation": own, "credentials": array(ref("VerificationResult"))}, closed=True)
    return obj({"verified": BOOLEAN, "verifiablePresentation": ANY_OBJECT,
                "problemDetails": array(ref("ResultProblem")), "results": results},
               ["verified", "problemDetails"], closed=True,
               description="VCALM `VerificationResult` (VerifyPresentationResult.yml).")


def _admin_requests() -> dict[str, Schema]:
    """Request bodies of the admin API."""
    return {
        "CreateIssuerRequest": obj({"name": {"type": "string", "pattern": ISSUER_NAME},
                                    "suites": array({"type": "string", "enum": list(ISSUABLE)}),
                                    "statusPurposes": array({"type": "string", "enum": ["revocation",
                                                                                        "suspension"]}),
                                    "keyTypes": array({"type": "string", "enum": ["Ed25519", "P-256", "P-384"]}),
                                    "didMethod": {"type": "string", "enum": ["web", "key"], "default": "web"}},
                                   ["name"], closed=True),
        "RotateKeyRequest": obj({"type": {"type": "string", "enum": ["Ed25519", "P-256", "P-384"],
                                          "default": "Ed25519"}}, example={"type": "Ed25519"}, closed=True),
        "CreateTokenRequest": obj({"issuer": {"type": "string", "pattern": ISSUER_NAME},
                                   "scopes": {"anyOf": [array({"type": "string",
                                                               "enum": ["issue", "status", "admin"]}),
                                                        STRING]},
                                   "label": STRING}, ["scopes"], closed=True),
    }


def _requests() -> dict[str, Schema]:
    """Request bodies (and their options)."""
    issue_options = obj({"cryptosuite": {"type": "string", "enum": list(ISSUABLE)},
                         "credentialId": {"type": "string", "minLength": 1, "maxLength": 512},
                         "mandatoryPointers": array(STRING)}, closed=True,
                        description="VCALM `IssueCredentialOptions` plus `cryptosuite` (one the issuer is "
                                    "configured for).")
    verify_options = obj({"returnResults": BOOLEAN, "returnProblemDetails": BOOLEAN, "returnCredential": BOOLEAN,
                          "checks": array({"type": "string", "enum": CHECKS}, minItems=1)}, closed=True,
                         description="VCALM `VerifyCredentialOptions`; `checks` narrows the checks (proof "
                                     "always runs); every check left out is a warning in `problemDetails`.")
    presentation_options = obj({"challenge": STRING, "domain": STRING, "returnPresentation": BOOLEAN,
                                "checks": array({"type": "string", "enum": CHECKS}, minItems=1)}, closed=True,
                               description="VCALM `VerifyPresentationOptions`; the proof's challenge must equal "
                                           "`challenge` (the caller's, or one from POST /challenges, which is "
                                           "single use), and its domain `domain`; `checks` as for credentials.")
    status_entry = obj({"id": STRING, "type": {"type": "string", "enum": ["BitstringStatusList",
                                                                          "BitstringStatusListEntry"]},
                        "statusPurpose": STRING, "statusListIndex": STRING, "statusListCredential": STRING},
                       ["statusPurpose"])
    presentation = obj({"@context": STRINGS, "type": STRINGS, "holder": STRING,
                        "verifiableCredential": OBJECT_OR_OBJECTS, "proof": OBJECT_OR_OBJECTS},
                       description="A verifiable presentation (VCALM `VerifiablePresentation`).")
    return _admin_requests() | {
        "Credential": _credential_document(),
        "IssueCredentialOptions": issue_options,
        "IssueCredentialRequest": obj({"credential": ref("Credential"), "options": ref("IssueCredentialOptions")},
                                      ["credential"], closed=True,
                                      example={"credential": EXAMPLE_CREDENTIAL}),
        "VerifyCredentialOptions": verify_options,
        "VerifyCredentialRequest": obj({"verifiableCredential": _credential_document(),
                                        "options": ref("VerifyCredentialOptions")}, ["verifiableCredential"],
                                       closed=True),
        "VerifyPresentationOptions": presentation_options,
        "VerifyPresentationRequest": obj({"verifiablePresentation": presentation,
                                          "options": ref("VerifyPresentationOptions")},
                                         ["verifiablePresentation"], closed=True),
        "UpdateCredentialStatusRequest": obj({"credentialId": {"type": "string", "minLength": 1},
                                              "credentialStatus": status_entry, "status": BOOLEAN,
                                              "indexAllocator": STRING},
                                             ["credentialId", "credentialStatus", "status"], closed=True),
        "CreateStatusListRequest": obj({"statusPurpose": {"type": "string", "enum": ["revocation", "suspension"]},
                                        "id": {"type": "string", "format": "uri"},
                                        "options": obj({"issuer": {"type": "string", "pattern": ISSUER_NAME}},
                                                       description="`issuer`: the issuer name, required "
                                                                   "with a global admin token.")},
                                       ["statusPurpose"], closed=True, example={"statusPurpose": "revocation"}),
    }


def _responses() -> dict[str, Schema]:
    """Response bodies."""
    issuer_key = obj({"id": STRING, "type": STRING, "publicKeyMultibase": STRING, "created": STRING},
                     ["id", "type", "publicKeyMultibase", "created"])
    token = {"id": STRING, "issuer": {"type": "string", "nullable": True}, "scopes": STRINGS, "label": STRING,
             "created": STRING}
    method = obj({"id": STRING, "type": STRING, "controller": STRING, "publicKeyMultibase": STRING},
                 ["id", "type", "controller", "publicKeyMultibase"])
    return {
        "ProblemDetails": _problem_details(),
        "ResultProblem": _result_problem(),
        "DataIntegrityProof": _data_integrity_proof(),
        "VerifiableCredential": _verifiable_credential(),
        "IssueCredentialResponse": obj({"verifiableCredential": ref("VerifiableCredential"),
                                        "credentialId": STRING, "logIndex": {"type": "integer", "minimum": 0}},
                                       ["verifiableCredential", "credentialId"],
                                       description="VCALM `VerifiableCredentialResponse` plus the "
                                                   "`credentialId` to use with GET/DELETE /credentials/{id} and "
                                                   "the `logIndex` of the credential's hash in the evidence log."),
        "VerifiableCredentialResponse": obj({"verifiableCredential": ref("VerifiableCredential")},
                                            ["verifiableCredential"]),
        "UpdateCredentialStatusResult": obj({"credentialId": STRING, "statusPurpose": STRING, "status": BOOLEAN,
                                             "previous": BOOLEAN, "statusListCredential": STRING,
                                             "statusListIndex": STRING},
                                            ["credentialId", "statusPurpose", "status", "previous",
                                             "statusListCredential", "statusListIndex"]),
        "CreateStatusListResponse": obj({"id": STRING, "verifiableCredential": ref("VerifiableCredential")},
                                        ["id", "verifiableCredential"]),
        "VerificationResult": _verification_result(),
        "PresentationVerificationResult": _presentation_result(),
        "CreateChallengeResult": obj({"challenge": STRING}, ["challenge"], closed=True),
        "DidDocument": obj({"@context": STRINGS, "id": STRING, "verificationMethod": array(method),
                            "assertionMethod": STRINGS, "authentication": STRINGS,
                            "capabilityInvocation": STRINGS}, ["@context", "id", "verificationMethod"]),
        "Issuer": obj({"name": STRING, "did": STRING, "didMethod": {"type": "string", "enum": ["web", "key"]},
                       "created": STRING, "keys": array(issuer_key),
                       "signing": {"type": "object", "additionalProperties": STRING}, "suites": STRINGS,
                       "defaultSuite": STRING, "statusPurposes": STRINGS},
                      ["name", "did", "created", "keys", "signing", "suites", "defaultSuite", "statusPurposes"],
                      closed=True),
        "IssuerList": obj({"issuers": array(ref("Issuer"))}, ["issuers"], closed=True),
        "TokenRecord": obj(token, list(token), closed=True),
        "CreatedToken": obj({"token": STRING, **token}, ["token", *token], closed=True),
        "TokenList": obj({"tokens": array(ref("TokenRecord"))}, ["tokens"], closed=True),
        "Health": obj({"status": {"type": "string", "enum": ["ok"]}}, ["status"]),
        "ServiceIndex": obj({"service": STRING, "publicUrl": STRING, "openapi": STRING, "did": STRING},
                            ["service", "publicUrl", "openapi", "did"]),
        "OpenApiDocument": obj({"openapi": STRING, "info": ANY_OBJECT, "paths": ANY_OBJECT}, ["openapi", "paths"]),
    }


def schemas() -> dict[str, Schema]:
    """Every component schema, by name."""
    return {**_requests(), **_responses()}


def exchange_schemas() -> dict[str, Schema]:
    """The schemas of VC API exchanges: the Verifiable Presentation Request (DIDAuthentication / QueryByExample,
    challenge, domain), an exchange's start, the presentation answering it and the issuer's answer."""
    request = obj({"query": array(ANY_OBJECT), "challenge": STRING, "domain": STRING},
                  ["query", "challenge", "domain"])
    presentation_body = obj({"verifiablePresentation": ANY_OBJECT}, ["verifiablePresentation"], closed=True)
    return {
        "PresentationRequest": request,
        "ExchangeStart": obj({"exchangeId": STRING, "verifiablePresentationRequest": ref("PresentationRequest"),
                              "expires": STRING}, ["exchangeId", "verifiablePresentationRequest", "expires"]),
        "PresentationBody": presentation_body,
        "ExchangeResult": obj({"verifiablePresentation": obj({"verifiableCredential": array(ANY_OBJECT)},
                                                             ["verifiableCredential"]),
                               "credentialId": STRING}, ["verifiablePresentation"]),
    }
