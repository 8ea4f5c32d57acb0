"""The wallet as a library: one holder key, stored credentials, settings and presentations.

No printing, no prompts, no network: :mod:`wallet.client` does HTTP, :mod:`wallet.cli` the command line.
Every change is written at once to the encrypted file (:mod:`wallet.vault`). ``rng`` and ``clock`` are
injectable (``os.urandom`` and the UTC wall clock by default).

Import policy (:meth:`Wallet.import_backup`): into a missing wallet the backup is restored whole; into a wallet
of the same holder DID the backup's credentials are *merged* (entries already present are kept, settings
already set are kept, the newer trust list wins); into a wallet of another DID the import is refused unless
``replace=True``, which replaces the whole wallet with the backup.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from chopmark.codecs import jcs
from chopmark.codecs.dates import format_datetime
from chopmark.dids import did_key_signer, did_web_to_url, resolve_did_key
from chopmark.errors import UsageError
from chopmark.jsonld.values import as_list
from chopmark.keys import KeyPair, KeyType, Signer
from chopmark.trust.domainlinkage import WELL_KNOWN_PATH, create_configuration, normalize_origin
from chopmark.vc import datamodel
from chopmark.vc.presentations import create_presentation, sign_presentation
from chopmark.vocab import CONTEXT_URL
from wallet import query, vault
from wallet.errors import (
    CredentialNotFoundError,
    UnsupportedRequestError,
    UntrustedSiteError,
    WalletConflictError,
    WalletCorruptError,
    WalletExistsError,
)

Rng = Callable[[int], bytes]
Clock = Callable[[], datetime]
PathLike = str | os.PathLike[str]
FORMAT = 1
#: Longest validity of a Domain Linkage Credential the wallet signs (days).
MAX_LINKAGE_DAYS = 3650
DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")
WEB_KEY_FRAGMENT = "key-1"


def utc_now() -> datetime:
    """The wall clock in UTC (the default clock)."""
    return datetime.now(UTC)


def did_web_for(domain: str, path_segments: Sequence[str] = ()) -> str:
    """``did:web:<domain>[:seg...]`` for a host name with an optional ``:port`` (encoded as ``%3A``)."""
    host, sep, port = domain.partition(":")
    did = ":".join(["did:web", host.lower() + (f"%3A{port}" if sep else ""), *path_segments])
    did_web_to_url(did)  # validates host, port and segments with the resolver's own rules
    return did


def host_did(base_url: str) -> str:
    """The host DID of a service base URL: ``did:web:<host>[%3A<port>]`` (the trust registry's signer)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) base URL: {base_url!r}")
    return did_web_for(parts.hostname + (f":{parts.port}" if parts.port is not None else ""))


def same_host(did_or_url: str, url: str) -> bool:
    """True when a did:web DID (or an http(s) URL) names the same host and port as ``url``.

    The wallet answers a request only when its ``domain`` is the party it is talking to (a relay defence).
    DIDs of other methods carry no host and are accepted here (the trust list decides about them).
    """
    if did_or_url.startswith("did:web:"):
        did_or_url = did_web_to_url(did_or_url)
    elif did_or_url.startswith("did:"):
        return True
    mine, theirs = urlsplit(did_or_url), urlsplit(url)
    return (mine.hostname, mine.port) == (theirs.hostname, theirs.port)


def entry_for(credential: Mapping[str, Any], received: datetime, verified_by: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a credential: ``{id, types, issuer, subject, received, validUntil, credential,
    verifiedBy}``. The id is the credential's ``id`` or ``urn:sha256:<digest of its JCS form>``."""
    ident = credential.get("id")
    if not isinstance(ident, str):
        ident = "urn:sha256:" + hashlib.sha256(jcs.canonicalize(credential)).hexdigest()
    subjects = query.subject_ids(credential)
    valid_until = credential.get("validUntil")
    return {"id": ident, "types": [t for t in as_list(credential.get("type"))
                                   if isinstance(t, str) and t != "VerifiableCredential"],
            "issuer": datamodel.issuer_id(credential), "subject": subjects[0] if subjects else None,
            "received": format_datetime(received), "validUntil": valid_until if isinstance(valid_until, str) else None,
            "credential": copy.deepcopy(dict(credential)), "verifiedBy": dict(verified_by)}


def _new_state(pair: KeyPair, did: str, vm_id: str, method: str, created: datetime) -> dict[str, Any]:
    return {"format": FORMAT, "created": format_datetime(created),
            "holder": {"did": did, "method": method, "verificationMethod": vm_id,
                       "publicKeyMultibase": pair.public_key.multibase(),
                       "secretKeyMultibase": pair.secret_multibase()},
            "settings": {}, "credentials": [], "trustCache": None}


def _check_state(state: Any) -> dict[str, Any]:
    if not isinstance(state, dict) or state.get("format") != FORMAT or not isinstance(state.get("holder"), dict) \
            or not isinstance(state.get("credentials"), list) or not isinstance(state.get("settings"), dict):
        raise WalletCorruptError("the wallet content is not in the expected format")
    return state


class Wallet:
    """An open wallet. Create one with :meth:`create`, open one with :meth:`open`."""

    def __init__(self, path: Path, passphrase: str, state: dict[str, Any], header: bytes, *,
                 kdf: vault.KdfParams, aead: str, rng: Rng, clock: Clock) -> None:
        """Internal: use :meth:`create`, :meth:`open` or :meth:`import_backup`."""
        self.path = path
        self._passphrase = passphrase
        self._state = _check_state(state)
        self._header = header
        self._kdf, self._aead, self._rng, self._clock = kdf, aead, rng, clock
        self._pair = KeyPair.from_multikey({"secretKeyMultibase": state["holder"]["secretKeyMultibase"],
                                            "publicKeyMultibase": state["holder"]["publicKeyMultibase"]})

    # --- lifecycle --------------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: PathLike, passphrase: str, *, did_method: Literal["key", "web"] | None = None,
               domain: str | None = None, path_segments: Sequence[str] | None = None,
               registry_url: str | None = None, registry_did: str | None = None, rng: Rng = os.urandom,
               clock: Clock = utc_now, kdf: vault.KdfParams = vault.DEFAULT_KDF,
               aead: str = vault.DEFAULT_AEAD) -> Wallet:
        """Create a wallet file with a new Ed25519 holder key: did:key by default, did:web when ``domain`` is
        given (``did:web:<domain>[:<segment>...]``). Refuses to overwrite an existing file."""
        target = Path(path)
        if target.exists():
            raise WalletExistsError(f"a wallet already exists at {target}")
        if not passphrase:
            raise UsageError("the wallet passphrase must not be empty")
        method = did_method or ("web" if domain else "key")
        if (method == "web") != (domain is not None) or (path_segments and method != "web"):
            raise UsageError("did:web needs a domain (and only did:web takes a domain and path)")
        pair = KeyPair.generate(KeyType.ED25519, rng)
        if method == "web" and domain is not None:
            did = did_web_for(domain, path_segments or ())
            vm_id = f"{did}#{WEB_KEY_FRAGMENT}"
        else:
            did, signer = did_key_signer(pair)
            vm_id = signer.id
        state = _new_state(pair, did, vm_id, method, clock())
        wallet = cls(target, passphrase, state, b"", kdf=kdf, aead=aead, rng=rng, clock=clock)
        if registry_url is not None:
            wallet._set_registry(registry_url, registry_did)
        wallet._save(check_conflict=False)
        return wallet

    @classmethod
    def open(cls, path: PathLike, passphrase: str, *, rng: Rng = os.urandom, clock: Clock = utc_now) -> Wallet:
        """Open an existing wallet (:class:`~wallet.errors.WalletNotFoundError`, ``WalletLockedError``,
        ``WalletCorruptError``)."""
        target = Path(path)
        state, header, header_bytes = vault.load_json(target, passphrase)
        return cls(target, passphrase, state, header_bytes, kdf=header.kdf, aead=header.aead, rng=rng, clock=clock)

    def export(self, destination: PathLike, backup_passphrase: str, *, overwrite: bool = False,
               kdf: vault.KdfParams | None = None) -> None:
        """Write a backup of the whole wallet (same format) under ``backup_passphrase``."""
        target = Path(destination)
        if not backup_passphrase:
            raise UsageError("the backup passphrase must not be empty")
        if target.resolve() == self.path.resolve() or (target.exists() and not overwrite):
            raise WalletExistsError(f"refusing to overwrite {target}")
        vault.save_json(target, self._state, backup_passphrase, rng=self._rng, kdf=kdf or self._kdf, aead=self._aead)

    @classmethod
    def import_backup(cls, path: PathLike, passphrase: str, source: PathLike, backup_passphrase: str, *,
                      replace: bool = False, rng: Rng = os.urandom, clock: Clock = utc_now,
                      kdf: vault.KdfParams = vault.DEFAULT_KDF) -> Wallet:
        """Restore or merge the backup at ``source`` into the wallet at ``path`` (see the module docstring)."""
        backup, _, _ = vault.load_json(Path(source), backup_passphrase)
        backup = _check_state(backup)
        target = Path(path)
        if not target.exists():
            wallet = cls(target, passphrase, backup, b"", kdf=kdf, aead=vault.DEFAULT_AEAD, rng=rng, clock=clock)
            wallet._save(check_conflict=False)
            return wallet
        wallet = cls.open(target, passphrase, rng=rng, clock=clock)
        if replace:
            wallet._replace_state(backup)
        elif backup["holder"]["did"] != wallet.did:
            raise WalletExistsError(f"the backup belongs to {backup['holder']['did']}, this wallet to {wallet.did}; "
                                    "use replace to overwrite this wallet")
        else:
            wallet._merge(backup)
        wallet._save()
        return wallet

    def change_passphrase(self, passphrase: str) -> None:
        """Encrypt the wallet file under a new passphrase (the caller checks its strength:
        :func:`wallet.passphrase.check_new_passphrase`)."""
        if not passphrase:
            raise UsageError("the wallet passphrase must not be empty")
        self._passphrase = passphrase
        self._save()

    def _replace_state(self, state: dict[str, Any]) -> None:
        self._state = _check_state(copy.deepcopy(state))
        self._pair = KeyPair.from_multikey({"secretKeyMultibase": state["holder"]["secretKeyMultibase"]})

    def _merge(self, backup: Mapping[str, Any]) -> None:
        known = {e["id"] for e in self._state["credentials"]}
        self._state["credentials"].extend(copy.deepcopy(e) for e in backup["credentials"] if e["id"] not in known)
        for key, value in backup["settings"].items():
            self._state["settings"].setdefault(key, value)
        theirs, mine = backup.get("trustCache"), self._state.get("trustCache")
        if theirs and (not mine or theirs["credential"].get("validFrom", "") > mine["credential"].get("validFrom", "")):
            self._state["trustCache"] = copy.deepcopy(theirs)

    def _save(self, *, check_conflict: bool = True) -> None:
        # Optimistic concurrency: every write carries a fresh salt, so an unchanged header means nobody else
        # wrote the file since we read it.
        if check_conflict and vault.current_header(self.path) != self._header:
            raise WalletConflictError(f"{self.path} was changed by another process; open it again and retry")
        self._header = vault.save_json(self.path, self._state, self._passphrase, rng=self._rng, kdf=self._kdf,
                                       aead=self._aead)

    # --- identity ---------------------------------------------------------------------------------------

    @property
    def did(self) -> str:
        """The holder DID."""
        return str(self._state["holder"]["did"])

    @property
    def signer(self) -> Signer:
        """The holder's signer (its verification method id is in the DID document's authentication)."""
        return self._pair.signer(self._state["holder"]["verificationMethod"])

    def now(self) -> datetime:
        """The wallet's clock."""
        return self._clock()

    def did_document(self) -> dict[str, Any]:
        """The holder's DID document; for did:web the document to host at :meth:`did_document_url` (one
        Multikey verification method, listed for authentication and assertionMethod)."""
        if self._state["holder"]["method"] == "key":
            return resolve_did_key(self.did)
        vm_id = self._state["holder"]["verificationMethod"]
        method = {"id": vm_id, "type": "Multikey", "controller": self.did,
                  "publicKeyMultibase": self._pair.public_key.multibase()}
        return {"@context": list(DID_CONTEXTS), "id": self.did, "verificationMethod": [method],
                "authentication": [vm_id], "assertionMethod": [vm_id]}

    def did_document_url(self) -> str | None:
        """Where a did:web document must be hosted (None for did:key)."""
        return did_web_to_url(self.did) if self.did.startswith("did:web:") else None

    def did_origin(self) -> str | None:
        """The web origin of a did:web holder (``https://host[:port]``), None for did:key."""
        url = self.did_document_url()
        if url is None:
            return None
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def domain_linkage_configuration(self, origin: str, *, valid_days: int = 365) -> dict[str, Any]:
        """The DIF Well-Known DID Configuration linking the holder DID to ``origin``: one Domain Linkage
        Credential (JWT proof format) signed with the holder key, valid ``valid_days`` from now. Host it at
        ``<origin>/.well-known/did-configuration.json`` (:meth:`domain_linkage_url`). The holder key is listed
        under ``assertionMethod`` of :meth:`did_document`, which is where verifiers look the ``kid`` up."""
        if isinstance(valid_days, bool) or not isinstance(valid_days, int) or not 0 < valid_days <= MAX_LINKAGE_DAYS:
            raise UsageError(f"valid_days must be an integer from 1 to {MAX_LINKAGE_DAYS}")
        if normalize_origin(origin) is None:
            raise UsageError(f"not a web origin (https://host[:port], no path): {origin!r}")
        issued = self.now()
        return create_configuration(self.did, origin, self.signer, issued=issued,
                                    expires=issued + timedelta(days=valid_days))

    @staticmethod
    def domain_linkage_url(origin: str) -> str:
        """Where an origin publishes its DID Configuration (RFC 8615 well-known URI)."""
        normalized = normalize_origin(origin)
        if normalized is None:
            raise UsageError(f"not a web origin (https://host[:port], no path): {origin!r}")
        return normalized + WELL_KNOWN_PATH

    # --- settings and the cached trust list ------------------------------------------------------------------

    @property
    def settings(self) -> dict[str, Any]:
        """A copy of the settings: ``registryUrl`` and ``registryDid`` when configured."""
        return copy.deepcopy(self._state["settings"])

    def configure(self, *, registry_url: str, registry_did: str | None = None) -> None:
        """Set the trust registry (its DID defaults to the host DID of the URL); drops a cached trust list of
        another registry."""
        self._set_registry(registry_url, registry_did)
        self._save()

    def _set_registry(self, registry_url: str, registry_did: str | None) -> None:
        base = registry_url.rstrip("/")
        did = registry_did or host_did(base)
        if (self._state["settings"].get("registryDid") != did) and self._state.get("trustCache"):
            self._state["trustCache"] = None
        self._state["settings"].update({"registryUrl": base, "registryDid": did})

    def trust_cache(self) -> dict[str, Any] | None:
        """The cached trust list ``{credential, fetched, registryDid}`` (None when none)."""
        cached = self._state.get("trustCache")
        return copy.deepcopy(cached) if isinstance(cached, dict) else None

    def cache_trust_list(self, credential: Mapping[str, Any], *, fetched: datetime) -> None:
        """Remember a verified trust list (used while it is valid when the registry is unreachable)."""
        self._state["trustCache"] = {"credential": copy.deepcopy(dict(credential)), "fetched": format_datetime(fetched),
                                     "registryDid": self._state["settings"].get("registryDid")}
        self._save()

    # --- credentials ------------------------------------------------------------------------------------

    def credentials(self) -> list[dict[str, Any]]:
        """Copies of the stored entries, oldest received first."""
        return copy.deepcopy(self._state["credentials"])

    def get(self, ref: str) -> dict[str, Any]:
        """The entry whose id is ``ref``, or the only one whose id starts with ``ref``."""
        entries = self._state["credentials"]
        found = [e for e in entries if e["id"] == ref] or [e for e in entries if ref and e["id"].startswith(ref)]
        if len(found) != 1:
            problem = "matches several credentials" if found else "matches no stored credential"
            raise CredentialNotFoundError(f"{ref!r} {problem}")
        return copy.deepcopy(found[0])

    def add(self, credential: Mapping[str, Any], verified_by: Mapping[str, Any]) -> dict[str, Any]:
        """Store a credential (already checked by the caller: see :func:`wallet.checks.receive`); a credential
        with the same id replaces the stored one. Returns the entry."""
        entry = entry_for(credential, self.now(), verified_by)
        self._state["credentials"] = [e for e in self._state["credentials"] if e["id"] != entry["id"]] + [entry]
        self._save()
        return copy.deepcopy(entry)

    def record_status(self, states: Mapping[str, Mapping[str, Any]]) -> None:
        """Remember the last status checked for stored entries (``{id: {"value", "source", "checked"}}``), shown
        when the registry cannot be reached (:mod:`wallet.status`)."""
        for entry in self._state["credentials"]:
            if entry["id"] in states:
                entry["status"] = dict(states[entry["id"]])
        self._save()

    def remove(self, ref: str) -> dict[str, Any]:
        """Delete the entry ``ref`` (exact id or unique prefix); returns it."""
        entry = self.get(ref)
        self._state["credentials"] = [e for e in self._state["credentials"] if e["id"] != entry["id"]]
        self._save()
        return entry

    # --- presentations ----------------------------------------------------------------------------------

    def present(self, vpr: Mapping[str, Any], *, site_base_url: str | None = None,
                accepted_types: Sequence[str] | None = None) -> dict[str, Any]:
        """Answer a presentation request with a signed presentation (``authentication`` proof bound to the
        request's ``challenge`` and ``domain``). ``site_base_url``: the site the request came from; its host
        must be the host of the request's did:web ``domain``. ``accepted_types``: the site profile's
        ``acceptedTypes``; then exactly one credential of an accepted type is presented (see :mod:`wallet.query`)."""
        entries, suite = query.select(vpr, self._state["credentials"], self.did, self.now(), accepted_types)
        if site_base_url is not None and not same_host(vpr["domain"], site_base_url):
            raise UntrustedSiteError(f"the request's domain {vpr['domain']} is not the site {site_base_url}")
        presentation = create_presentation([e["credential"] for e in entries], holder=self.did)
        return self._sign(presentation, vpr, suite)

    def did_auth(self, vpr: Mapping[str, Any], application: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a ``DIDAuthentication`` request with a presentation carrying ``kybApplication`` (the
        application claims; ``id`` and ``type`` are dropped: the subject is the holder DID)."""
        query_list = query.queries(vpr)
        if not any(q.get("type") == query.DID_AUTHENTICATION for q in query_list):
            raise UnsupportedRequestError("the request does not ask for DID authentication")
        query.check_did_method(query_list, self.did)
        if not isinstance(application, Mapping):
            raise UsageError("the KYB application must be a JSON object")
        presentation = create_presentation([], holder=self.did, extra_contexts=[CONTEXT_URL])
        claims = {k: copy.deepcopy(v) for k, v in application.items() if k not in ("id", "type")}
        presentation["kybApplication"] = claims
        return self._sign(presentation, vpr, query.choose_suite(query_list))

    def _sign(self, presentation: dict[str, Any], vpr: Mapping[str, Any], suite: str) -> dict[str, Any]:
        return sign_presentation(presentation, self.signer, suite=suite, challenge=vpr["challenge"],
                                 domain=vpr["domain"], created=format_datetime(self.now()))
