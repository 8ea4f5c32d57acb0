"""Issuing over the VC API: choose the instance and suite, add status entries, sign, record, replay safely.

Every issued credential is recorded durably before the response (id, SHA-256 of its JCS form, status
entries, time, client) together with the credential itself, so ``GET /credentials/{id}`` and idempotent
replays return the identical bytes. Its hash is appended to the registry's evidence log first (no personal
data: only the hash), so no credential is ever recorded without its log entry; the record keeps the log index.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chopmark.codecs import jcs
from chopmark.codecs.dates import format_datetime
from chopmark.errors import BadRequest, Conflict, Gone, NotFound, RangeError, StatusEntryMismatch, Unprocessable
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.values import as_list
from chopmark.store import Store
from chopmark.store.records import create_json, get_json, put_json, update_json
from chopmark.vc import statuslist
from chopmark.vc.credentials import issue
from chopmark.vc.datamodel import issuer_id, split_schemas
from chopmark.vocab.schema import validate_for_issuance
from chopmark.web.plumbing import Client, body_digest
from issuer.ports import RegistryPort, StatusListener

NS_CRED = "cred"
NS_IDEM = "idem"
OPTION_KEYS = frozenset({"cryptosuite", "credentialId", "mandatoryPointers"})
PENDING_SECONDS = 60


@dataclass(frozen=True)
class Issued:
    """An issuance outcome: the record, and whether it is a replay of an earlier identical request."""

    record: dict[str, Any]
    replayed: bool = False

    def response(self) -> dict[str, Any]:
        """The VC API body ``{verifiableCredential}`` plus our ``credentialId`` and the evidence ``logIndex``."""
        body = {"verifiableCredential": self.record["credential"], "credentialId": self.record["id"]}
        if self.record.get("logIndex") is not None:
            body["logIndex"] = self.record["logIndex"]
        return body


class Issuance:
    """The issuer role's domain service."""

    def __init__(self, store: Store, registry: RegistryPort, *, clock: Callable[[], datetime],
                 rng: Callable[[int], bytes], loader: DocumentLoader) -> None:
        """Issue with the registry's issuer instances, status lists and evidence log; records go to ``store``."""
        self._store = store
        self._registry = registry
        self._clock = clock
        self._rng = rng
        self._loader = loader
        self._listeners: list[StatusListener] = []

    # -- issue -------------------------------------------------------------------------------------------
    def issue(self, client: Client, issuer: str, body: Mapping[str, Any], idempotency_key: str | None) -> Issued:
        """Handle ``POST /credentials/issue`` for issuer instance ``issuer``."""
        client.require("issue", issuer)
        credential, options = _parse_request(body)
        if idempotency_key is None:
            return Issued(self._issue(client, issuer, credential, options))
        return self._idempotent(client, issuer, body, idempotency_key,
                                lambda: self._issue(client, issuer, credential, options))

    def issue_for(self, issuer: str, credential: Mapping[str, Any], *, actor: str) -> dict[str, Any]:
        """Issue on behalf of a service flow (KYB exchange, site onboarding): no API token is involved; the
        record names ``actor`` as its client. Returns the stored record."""
        client = Client(id=actor, issuer=issuer, scopes=frozenset({"issue"}))
        return self._issue(client, issuer, dict(credential), {})

    def _issue(self, client: Client, name: str, credential: dict[str, Any],
               options: Mapping[str, Any]) -> dict[str, Any]:
        issuer = self._registry.issuers.get(name)
        claimed = issuer_id(credential) if "issuer" in credential else None
        if "issuer" in credential and claimed != issuer["did"]:
            raise BadRequest(f"credential issuer {claimed!r} is not this instance's DID {issuer['did']}",
                             pointer="/credential/issuer", code="ISSUER_MISMATCH")
        suite = options.get("cryptosuite", issuer["defaultSuite"])
        signer, _ = self._registry.issuers.signer(name, suite)
        record_id = options.get("credentialId") or credential.get("id") or self._new_id()
        if not isinstance(record_id, str) or not record_id or len(record_id) > 512:
            raise BadRequest("credential id must be a non-empty string of at most 512 characters")
        if get_json(self._store, NS_CRED, record_id) is not None:
            raise Conflict(f"a credential with id {record_id!r} was already issued", code="DUPLICATE_ID")
        entries = [] if "credentialStatus" in credential else self._status_entries(issuer)
        if entries:
            credential["credentialStatus"] = [e for e, _ in entries] if len(entries) > 1 else entries[0][0]
            _define_status_terms(credential)
        now = format_datetime(self._clock())
        if "credentialSchema" in credential:  # VC JSON Schema: refuse to sign what verifiers would reject
            # VCDM 2.0 §4.11: entries of types this service cannot check are issued as they are
            checkable, _ = split_schemas({**credential, "issuer": claimed or issuer["did"]})
            if checkable is not None:
                validate_for_issuance(checkable)
        try:
            signed = issue(credential, signer, suite=suite, loader=self._loader, created=now,
                           issuer=None if "issuer" in credential else issuer["did"])
        except RangeError as exc:  # VCDM 2.0 §5.3: a relatedResource digest that does not match: 422
            if exc.instance_code != "DIGEST_MISMATCH":
                raise
            raise Unprocessable(exc.detail, pointer=f"/credential/{exc.pointer}", code="DIGEST_MISMATCH") from None
        digest = hashlib.sha256(jcs.canonicalize_general(signed)).hexdigest()
        record = {"id": record_id, "issuer": name, "client": client.id, "issued": now, "suite": suite,
                  "hash": digest, "logIndex": self._registry.evidence.append("credential", sha256=digest),
                  "status": [s for _, s in entries], "mandatoryPointers": options.get("mandatoryPointers"),
                  "credential": signed, "deleted": False}
        if not create_json(self._store, NS_CRED, record_id, record):
            raise Conflict(f"a credential with id {record_id!r} was already issued", code="DUPLICATE_ID")
        return record

    def _status_entries(self, issuer: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        out = []
        for purpose in issuer["statusPurposes"]:
            record, index = self._registry.status_lists.allocate(issuer["name"], purpose)
            entry = statuslist.status_entry(record["url"], index, purpose)
            out.append((entry, {"purpose": purpose, "list": record["id"], "index": index}))
        return out

    def _new_id(self) -> str:
        return "urn:uuid:" + str(uuid.UUID(bytes=self._rng(16), version=4))

    def _idempotent(self, client: Client, issuer: str, body: Mapping[str, Any], key: str,
                    run: Callable[[], dict[str, Any]]) -> Issued:
        """``Idempotency-Key``: same key and body → the stored credential; other body → 422."""
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise BadRequest("Idempotency-Key must be 1-255 printable characters", code="BAD_IDEMPOTENCY_KEY")
        slot = f"{issuer}|{client.id}|{key}"
        digest = body_digest(body)
        now = self._clock().timestamp()
        if not create_json(self._store, NS_IDEM, slot, {"digest": digest, "state": "pending", "at": now}):
            existing = get_json(self._store, NS_IDEM, slot) or {}
            if existing.get("digest") != digest:
                raise Unprocessable("this Idempotency-Key was used with a different request body",
                                    code="IDEMPOTENCY_KEY_REUSED")
            if existing.get("state") == "done":
                return Issued(self._record(existing["credentialId"]), replayed=True)
            if now - existing.get("at", 0) < PENDING_SECONDS:
                raise Conflict("a request with this Idempotency-Key is still in progress; retry shortly",
                               code="IDEMPOTENCY_IN_PROGRESS")
            self._take_over(slot, existing, digest, now)
        try:
            record = run()
        except Exception:
            self._store.delete(NS_IDEM, slot)  # nothing was issued: the key may be used again
            raise
        put_json(self._store, NS_IDEM, slot, {"digest": digest, "state": "done", "credentialId": record["id"]})
        return Issued(record)

    def _take_over(self, slot: str, existing: Mapping[str, Any], digest: str, now: float) -> None:
        """Claim a pending slot whose owner crashed long ago (compare-and-set, so only one request wins)."""
        def claim(current: Any) -> Any:
            if current != existing:
                raise Conflict("a request with this Idempotency-Key is in progress", code="IDEMPOTENCY_IN_PROGRESS")
            return {"digest": digest, "state": "pending", "at": now}
        update_json(self._store, NS_IDEM, slot, claim, retries=1)

    # -- read, delete, status ----------------------------------------------------------------------------
    def record(self, credential_id: str) -> dict[str, Any]:
        """The issuance record of ``credential_id`` (NotFound when unknown); for service flows, no auth."""
        return self._record(credential_id)

    def _record(self, credential_id: str) -> dict[str, Any]:
        record = get_json(self._store, NS_CRED, credential_id) if 0 < len(credential_id) <= 512 else None
        if record is None:
            raise NotFound(f"no credential {credential_id!r}", code="CREDENTIAL_NOT_FOUND")
        return dict(record)

    def get(self, client: Client, credential_id: str) -> dict[str, Any]:
        """``GET /credentials/{id}`` (own issuer only; 410 once deleted)."""
        record = self._record(credential_id)
        client.require("issue", record["issuer"])
        if record["deleted"]:
            raise Gone(f"credential {credential_id!r} was deleted", code="CREDENTIAL_DELETED")
        return record

    def delete(self, client: Client, credential_id: str) -> None:
        """``DELETE /credentials/{id}``: drop the stored credential, keep a tombstone (hash, status)."""
        record = self._record(credential_id)
        client.require("issue", record["issuer"])
        if record["deleted"]:
            raise Gone(f"credential {credential_id!r} was already deleted", code="CREDENTIAL_DELETED")

        def tombstone(current: Any) -> Any:
            return {**current, "deleted": True, "credential": None}
        update_json(self._store, NS_CRED, credential_id, tombstone)

    def add_status_listener(self, listener: StatusListener) -> None:
        """Tell ``listener`` of every status bit written through :meth:`update_status` (``create_app`` subscribes
        the sites' onboarding, which carries the change to the seller credentials derived from the credential)."""
        self._listeners.append(listener)

    def update_status(self, client: Client, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /credentials/status``: set (true) or clear (false) one status bit of a credential.

        Refused with 409 (nothing written): a ``credentialStatus`` whose ``statusListCredential``,
        ``statusListIndex`` or ``id`` is not the credential's entry for that purpose (``STATUS_ENTRY_MISMATCH``),
        a purpose the credential has no entry for (``NO_STATUS_ENTRY``), clearing a set revocation bit
        (``REVOCATION_PERMANENT``, Bitstring Status List 1.0 §2.1). Every accepted write, also one that changes
        nothing, is passed to the status listeners (so repeating a request completes an interrupted cascade)."""
        credential_id, requested, value = _parse_status_request(body)
        purpose = requested["statusPurpose"]
        record = self._record(credential_id)
        client.require("status", record["issuer"])
        entry = next((s for s in record["status"] if s["purpose"] == purpose), None)
        if entry is None:
            raise StatusEntryMismatch(f"credential {credential_id!r} has no {purpose!r} status entry",
                                      pointer="/credentialStatus/statusPurpose", code="NO_STATUS_ENTRY",
                                      member="statusPurpose")
        lists = self._registry.status_lists
        _match_entry(requested, self._issued_entry(record, entry))
        previous = lists.set(entry["list"], entry["index"], value)
        for listener in self._listeners:
            listener.status_changed(credential_id=credential_id, digest=record["hash"], purpose=purpose, value=value)
        return {"credentialId": credential_id, "statusPurpose": purpose, "status": value, "previous": previous,
                "statusListCredential": lists.url_for(entry["list"]), "statusListIndex": str(entry["index"])}

    def _issued_entry(self, record: Mapping[str, Any], entry: Mapping[str, Any]) -> Mapping[str, Any]:
        """The ``BitstringStatusListEntry`` the credential carries for ``entry`` (rebuilt as issuance built it
        when the credential was deleted and only its tombstone remains)."""
        credential = record.get("credential")
        carried = as_list(credential.get("credentialStatus")) if isinstance(credential, Mapping) else []
        for candidate in carried:
            if isinstance(candidate, Mapping) and (candidate.get("statusPurpose"), candidate.get("statusListIndex")) \
                    == (entry["purpose"], str(entry["index"])):
                return candidate
        return statuslist.status_entry(self._registry.status_lists.url_for(entry["list"]), entry["index"],
                                       entry["purpose"])


VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"


def _define_status_terms(credential: dict[str, Any]) -> None:
    """A VC 1.1 credential does not define the Bitstring Status List terms the issuer adds: append their context
    (Bitstring Status List 1.0 §2.1 defines them in the VC 2.0 context and in ``.../status/v1``)."""
    contexts = as_list(credential.get("@context"))
    if VC_V2_CONTEXT not in contexts and STATUS_CONTEXT not in contexts:
        credential["@context"] = [*contexts, STATUS_CONTEXT]


def _match_entry(requested: Mapping[str, Any], issued: Mapping[str, Any]) -> None:
    """VCALM ``credentialStatus`` names the entry to update: each member given must be the credential's own
    (Bitstring Status List 1.0 §2.1 entry members), else 409 naming the first that differs."""
    for member in ("statusListCredential", "statusListIndex", "id"):
        if member in requested and requested[member] != issued.get(member):
            raise StatusEntryMismatch(
                f"credentialStatus.{member} {requested[member]!r} is not the credential's: its "
                f"{issued.get('statusPurpose')} entry has {member} {issued.get(member)!r}",
                pointer=f"/credentialStatus/{member}", member=member)


def _parse_request(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    unknown = set(body) - {"credential", "options"}
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}; expected credential and options", code="UNKNOWN_MEMBER")
    credential, options = body.get("credential"), body.get("options", {})
    if not isinstance(credential, dict):
        raise Unprocessable("credential must be a JSON object (the unsigned credential)", pointer="/credential",
                            code="NOT_A_CREDENTIAL")
    if not isinstance(options, dict):
        raise BadRequest("options must be an object", pointer="/options")
    unknown = set(options) - OPTION_KEYS
    if unknown:
        raise BadRequest(f"unknown options {sorted(unknown)}; supported: {sorted(OPTION_KEYS)}",
                         pointer="/options", code="UNKNOWN_OPTION")
    for name in ("cryptosuite", "credentialId"):
        if name in options and not isinstance(options[name], str):
            raise BadRequest(f"options.{name} must be a string", pointer=f"/options/{name}")
    pointers = options.get("mandatoryPointers")
    if pointers is not None and not (isinstance(pointers, list) and all(
            isinstance(p, str) and (p == "" or p.startswith("/")) for p in pointers)):
        raise BadRequest("options.mandatoryPointers must be a list of JSON Pointers", pointer="/options")
    if "proof" in credential:
        raise BadRequest("the credential to issue must not have a proof", pointer="/credential/proof",
                         code="ALREADY_SECURED")
    return dict(credential), options


def _parse_status_request(body: Mapping[str, Any]) -> tuple[str, dict[str, Any], bool]:
    unknown = set(body) - {"credentialId", "credentialStatus", "status", "indexAllocator"}
    if unknown:
        raise BadRequest(f"unknown members {sorted(unknown)}", code="UNKNOWN_MEMBER")
    credential_id, status, value = body.get("credentialId"), body.get("credentialStatus"), body.get("status")
    if not isinstance(credential_id, str) or not credential_id:
        raise BadRequest("credentialId (string) is required", pointer="/credentialId")
    if not isinstance(status, dict) or not isinstance(status.get("statusPurpose"), str):
        raise BadRequest("credentialStatus {statusPurpose} is required", pointer="/credentialStatus")
    if status.get("type", "BitstringStatusList") not in ("BitstringStatusList", "BitstringStatusListEntry"):
        raise BadRequest("credentialStatus.type must be BitstringStatusList", pointer="/credentialStatus/type")
    for member in ("statusListCredential", "statusListIndex", "id"):
        if member in status and not isinstance(status[member], str):
            raise BadRequest(f"credentialStatus.{member} must be a string", pointer=f"/credentialStatus/{member}")
    if not isinstance(value, bool):
        raise BadRequest("status must be true or false", pointer="/status")
    return credential_id, status, value
