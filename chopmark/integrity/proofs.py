"""The generic Data Integrity 1.0 algorithms, parameterised by a :class:`~chopmark.integrity.suites.base.Cryptosuite`.

Add proof (§4.2), add proof set/chain (§4.3), verify proof (§4.4) and verify proof sets and chains (§4.5).
Signing input is ``hash(canonical proof configuration) || hash(canonical document)`` (vc-di-eddsa §3.3.4,
vc-di-ecdsa §3.2.4 "Hashing"). Verification never raises for a bad proof: it returns one
:class:`ProofOutcome` per proof naming every failure, and a ``contexts`` outcome when the document's contexts
are not allowed by the loader's policy (Data Integrity 1.0 §2.4.1, :mod:`chopmark.jsonld.contextcheck`).

Adding a Data Integrity proof to a document whose ``@context`` maps no Data Integrity term (a VC 1.1 credential)
appends ``https://w3id.org/security/data-integrity/v2`` (§2.4.2 "Context Injection"). A legacy proof may carry
its suite context in ``proof.@context`` (:data:`LEGACY_PROOF_CONTEXTS`); any other ``proof.@context`` of an RDFC
suite is refused.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from chopmark.codecs import multibase
from chopmark.codecs.dates import parse_datetime
from chopmark.errors import (
    ChopmarkError,
    InvalidChallengeError,
    InvalidDomainError,
    InvalidProofDatetimeError,
    MalformedProofError,
    MismatchedProofPurposeError,
    ProofGenerationError,
    ProofVerificationError,
)
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.suites import SUITES, get_suite, suite_id_of
from chopmark.integrity.suites.base import Cryptosuite
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.contextcheck import check_allowed_contexts
from chopmark.jsonld.values import as_list
from chopmark.keys import KeyType, PublicKey

DI_CONTEXT = "https://w3id.org/security/data-integrity/v2"
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: Contexts that already map the Data Integrity terms (Data Integrity 1.0 §2.4.2 "Context Injection"): with
#: none of them in ``@context``, :func:`add_proof` appends :data:`DI_CONTEXT`. data-integrity/v1 counts, as
#: appending v2 after it would redefine its protected ``DataIntegrityProof``.
DI_TERM_CONTEXTS = frozenset({DI_CONTEXT, VC2_CONTEXT, "https://w3id.org/security/data-integrity/v1"})
#: The pinned suite contexts a legacy proof may carry in ``proof.@context`` instead of the document's
#: ``@context`` (older jsonld-signatures); any other ``proof.@context`` of an RDFC suite is refused.
LEGACY_PROOF_CONTEXTS = frozenset({DI_CONTEXT, "https://w3id.org/security/data-integrity/v1",
                                   "https://w3id.org/security/suites/ed25519-2020/v1"})


class SignerLike(Protocol):
    """What signing needs: the verification method URL, the algorithm, and ``sign``."""

    @property
    def id(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


class MethodResolver(Protocol):
    """Dereferences a verification method and checks its verification relationship."""

    def resolve_verification_method(self, vm_url: str, relationship: str) -> tuple[dict[str, Any], PublicKey]:
        """Return the method and its public key, or raise a typed error."""
        ...


@dataclass(frozen=True)
class ProofOptions:
    """Options of a proof to create (Data Integrity §2.1 proof properties)."""

    suite: str
    proof_purpose: str = "assertionMethod"
    created: str | None = None
    expires: str | None = None
    domain: str | list[str] | None = None
    challenge: str | None = None
    nonce: str | None = None
    id: str | None = None
    previous_proof: str | list[str] | None = None
    allow_legacy: bool = False


@dataclass(frozen=True)
class VerifyOptions:
    """What the verifier expects (Data Integrity §4.4 inputs). ``accepted_suites`` is the caller's allow-list."""

    accepted_suites: Collection[str] = field(default_factory=lambda: tuple(SUITES))
    expected_purpose: str = "assertionMethod"
    challenge: str | None = None
    domain: str | None = None
    now: datetime | None = None
    max_clock_skew: timedelta = timedelta(minutes=5)


@dataclass
class ProofOutcome:
    """The verification of one proof: the check and, when the method resolved, its controller."""

    check: CheckResult
    controller: str | None = None
    verification_method: str | None = None


def _signing_input(suite: Cryptosuite, key_type: KeyType, unsecured: Mapping[str, Any],
                   config: Mapping[str, Any], loader: DocumentLoader) -> bytes:
    # vc-di-eddsa §3.3.4 / vc-di-ecdsa §3.2.4 Hashing: hash(proofConfig) || hash(transformedDocument)
    canonical_config = suite.canonicalize(config, loader, key_type)
    canonical_doc = suite.canonicalize(unsecured, loader, key_type)
    return suite.hash(key_type, canonical_config) + suite.hash(key_type, canonical_doc)


def _proof_options(options: ProofOptions, suite: Cryptosuite, vm: str) -> dict[str, Any]:
    proof: dict[str, Any] = {"type": suite.proof_type}
    if options.id is not None:
        proof["id"] = options.id
    if suite.is_data_integrity:
        proof["cryptosuite"] = suite.name
    optional = (("created", options.created), ("expires", options.expires))
    proof.update({k: v for k, v in optional if v is not None})
    proof["verificationMethod"] = vm
    proof["proofPurpose"] = options.proof_purpose
    extra = (("domain", options.domain), ("challenge", options.challenge), ("nonce", options.nonce),
             ("previousProof", options.previous_proof))
    proof.update({k: v for k, v in extra if v is not None})
    return proof


def create_proof(unsecured: Mapping[str, Any], signer: SignerLike, options: ProofOptions,
                 loader: DocumentLoader) -> dict[str, Any]:
    """Create a proof for ``unsecured`` (vc-di-eddsa §3.3.1 / §3.4.1 Create Proof, generic over the suite)."""
    suite = get_suite(options.suite)
    if suite.legacy and not options.allow_legacy:
        raise ProofGenerationError(f"{suite.name} is a legacy suite; issuing with it needs allow_legacy=True")
    if signer.algorithm not in {k.value for k in suite.key_types}:
        raise ProofGenerationError(
            f"signer algorithm {signer.algorithm!r} does not match suite {suite.name!r}")
    for name, value in (("created", options.created), ("expires", options.expires)):
        if value is not None:
            _check_datetime(value, name)
    proof = _proof_options(options, suite, signer.id)
    # §3.3.5 Proof Configuration step 5: proofConfig.@context = unsecuredDocument.@context
    config = dict(proof)
    if "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    if suite.proof_has_context and "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])
    key_type = KeyType(signer.algorithm)
    signature = signer.sign(_signing_input(suite, key_type, unsecured, config, loader))
    # §3.3.1 step 6: proof.proofValue = base58btc multibase of proofBytes
    proof["proofValue"] = multibase.encode(signature, "base58btc")
    return proof


def _check_datetime(value: Any, name: str) -> datetime:
    try:
        return parse_datetime(value, name=name)
    except ChopmarkError as exc:
        raise InvalidProofDatetimeError(exc.detail, pointer=f"proof/{name}") from None


def add_proof(document: Mapping[str, Any], signer: SignerLike, options: ProofOptions,
              loader: DocumentLoader) -> dict[str, Any]:
    """Add a proof to ``document`` (§4.2), as a proof set or chain when proofs exist (§4.3).

    Returns a new document; the input is not modified.
    """
    existing = as_list(document.get("proof"))
    document = _with_data_integrity_context(document, get_suite(options.suite), bool(existing))
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if options.previous_proof is not None:
        # §4.3 step 4: every previousProof id must name an existing proof; they become the input's proof
        wanted = [options.previous_proof] if isinstance(options.previous_proof, str) else options.previous_proof
        matching = [p for p in existing if isinstance(p, Mapping) and p.get("id") in wanted]
        if len(matching) != len(set(wanted)):
            raise ProofGenerationError("previousProof names a proof the document does not have")
        unsecured["proof"] = matching
    proof = create_proof(unsecured, signer, options, loader)
    secured = copy.deepcopy(dict(document))
    secured["proof"] = [*copy.deepcopy(existing), proof] if existing else proof
    return secured


def _with_data_integrity_context(document: Mapping[str, Any], suite: Cryptosuite, has_proofs: bool
                                 ) -> Mapping[str, Any]:
    """Data Integrity 1.0 §2.4.2 "Context Injection": when the document's ``@context`` maps no Data Integrity
    terms (a VC 1.1 credential), append ``https://w3id.org/security/data-integrity/v2`` so that
    ``DataIntegrityProof``, ``cryptosuite`` and ``created`` are defined. A document without ``@context`` (plain
    JSON for a JCS suite) and the legacy suites (their own context is required) are left alone."""
    if not suite.is_data_integrity or "@context" not in document:
        return document
    contexts = as_list(document["@context"])
    if any(isinstance(c, str) and c in DI_TERM_CONTEXTS for c in contexts):
        return document
    if has_proofs:
        # changing @context would change what the existing proofs signed
        raise ProofGenerationError(f"the document's @context lacks {DI_CONTEXT} and already has proofs; "
                                   "adding the context would invalidate them")
    return {**document, "@context": [*contexts, DI_CONTEXT]}


def verify_proofs(document: Mapping[str, Any], resolver: MethodResolver, loader: DocumentLoader,
                  options: VerifyOptions) -> list[ProofOutcome]:
    """Verify every proof of ``document`` (§4.5 proof sets and chains). An absent proof is one failure."""
    proofs = as_list(document.get("proof"))
    if not proofs:
        return [ProofOutcome(CheckResult.failed("proof", [MalformedProofError("the document has no proof")]))]
    outcomes = []
    for index, proof in enumerate(proofs):
        name = "proof" if len(proofs) == 1 else f"proof[{index}]"
        outcomes.append(_verify_one(document, proofs, proof, name, resolver, loader, options))
    try:
        # Data Integrity 1.0 §2.4.1: context validation runs after the proofs are verified (§4.6 algorithm)
        check_allowed_contexts(document, loader)
    except ChopmarkError as exc:
        outcomes.append(ProofOutcome(CheckResult.failed("contexts", [exc])))
    return outcomes


def _verify_one(document: Mapping[str, Any], all_proofs: Sequence[Any], proof: Any, name: str,
                resolver: MethodResolver, loader: DocumentLoader, options: VerifyOptions) -> ProofOutcome:
    vm = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    try:
        suite, signature = _check_proof_shape(proof, options)
        unsecured = _unsecured_for(document, all_proofs, proof)
        method, key = resolver.resolve_verification_method(proof["verificationMethod"], proof["proofPurpose"])
        _verify_signature(suite, key, signature, unsecured, proof, loader)
    except ChopmarkError as exc:
        return ProofOutcome(CheckResult.failed(name, [exc], verificationMethod=vm), None, vm)
    controller = method.get("controller")
    details = {"cryptosuite": suite.name, "verificationMethod": vm}
    return ProofOutcome(CheckResult.ok(name, **details), controller if isinstance(controller, str) else None, vm)


def _check_proof_shape(proof: Any, options: VerifyOptions) -> tuple[Cryptosuite, bytes]:
    # §4.4 step 3: type, verificationMethod and proofPurpose must exist, else MALFORMED_PROOF_ERROR
    if not isinstance(proof, Mapping):
        raise MalformedProofError("a proof must be a JSON object")
    for key in ("type", "verificationMethod", "proofPurpose", "proofValue"):
        if not isinstance(proof.get(key), str):
            raise MalformedProofError(f"proof.{key} is missing or not a string", pointer=f"proof/{key}")
    suite_id = suite_id_of(proof)
    if suite_id not in options.accepted_suites:
        raise ProofVerificationError(f"cryptosuite {suite_id or proof.get('type')!r} is not accepted")
    suite = SUITES.get(suite_id)
    if suite is None or not suite.matches(proof):
        raise ProofVerificationError(f"cryptosuite {suite_id!r} is not supported")
    # §4.4 step 4: the expected proof purpose
    if proof["proofPurpose"] != options.expected_purpose:
        raise MismatchedProofPurposeError(
            f"proofPurpose {proof['proofPurpose']!r} is not the expected {options.expected_purpose!r}")
    _check_domain_challenge(proof, options)
    _check_proof_times(proof, options)
    return suite, _decode_proof_value(proof["proofValue"])


def _check_domain_challenge(proof: Mapping[str, Any], options: VerifyOptions) -> None:
    # §4.4 steps 5-6: domain and challenge must match what the verifier expects
    if options.domain is not None:
        domain = proof.get("domain")
        domains = domain if isinstance(domain, list) else [domain]
        if options.domain not in domains:
            raise InvalidDomainError(f"proof domain {domain!r} does not match {options.domain!r}")
    if options.challenge is not None and proof.get("challenge") != options.challenge:
        raise InvalidChallengeError("proof challenge does not match the expected challenge")


def _check_proof_times(proof: Mapping[str, Any], options: VerifyOptions) -> None:
    created = _check_datetime(proof["created"], "created") if "created" in proof else None
    expires = _check_datetime(proof["expires"], "expires") if "expires" in proof else None
    if options.now is None:
        return
    if created is not None and created - options.now > options.max_clock_skew:  # differences never overflow
        raise InvalidProofDatetimeError("proof.created is in the future", pointer="proof/created")
    if expires is not None and options.now - expires > options.max_clock_skew:
        raise InvalidProofDatetimeError("the proof has expired", pointer="proof/expires", code="PROOF_EXPIRED")


def _decode_proof_value(value: str) -> bytes:
    # vc-di-eddsa §2.2.1 / vc-di-ecdsa §2.2.1: proofValue is base58-btc multibase ("z")
    if not value.startswith("z"):
        raise MalformedProofError("proofValue must be base58-btc multibase (start with 'z')",
                                  pointer="proof/proofValue")
    try:
        return multibase.decode(value)
    except ChopmarkError:
        raise MalformedProofError("proofValue is not valid base58-btc", pointer="proof/proofValue") from None


def _unsecured_for(document: Mapping[str, Any], all_proofs: Sequence[Any], proof: Mapping[str, Any]
                   ) -> dict[str, Any]:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    previous = proof.get("previousProof")
    if previous is None:
        return unsecured
    # §4.5 step 3.2: the proofs named by previousProof form the input document's proof
    wanted = [previous] if isinstance(previous, str) else previous
    if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
        raise MalformedProofError("previousProof must be a string or a list of strings")
    matching = [p for p in all_proofs if isinstance(p, Mapping) and p.get("id") in wanted]
    if len(matching) != len(set(wanted)):
        raise ProofVerificationError("previousProof names a proof the document does not have")
    unsecured["proof"] = matching
    return unsecured


def _verify_signature(suite: Cryptosuite, key: PublicKey, signature: bytes, unsecured: dict[str, Any],
                      proof: Mapping[str, Any], loader: DocumentLoader) -> None:
    if key.key_type not in suite.key_types:
        raise ProofVerificationError(f"a {key.key_type.value} key cannot verify {suite.name}")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config and suite.proof_has_context:
        # vc-di-eddsa §3.3.2 / vc-di-ecdsa §3.3.2 (jcs) step 4: the document's @context must start with the
        # proof's, in order, and becomes the proof's
        proof_ctx = as_list(config["@context"])
        if as_list(unsecured.get("@context"))[: len(proof_ctx)] != proof_ctx:
            raise ProofVerificationError("the proof @context is not a prefix of the document @context")
        unsecured["@context"] = config["@context"]
    elif "@context" in config:
        _check_legacy_proof_context(config["@context"], unsecured.get("@context"))
    elif "@context" in unsecured:
        # vc-di-eddsa §3.1.5 / vc-di-ecdsa §3.3.5 Proof Configuration: proofConfig.@context = document's @context
        config["@context"] = unsecured["@context"]
    if suite.required_context is not None and not any(
            suite.required_context in as_list(ctx) for ctx in (unsecured.get("@context"), config.get("@context"))):
        raise ProofVerificationError(f"{suite.name} needs the context {suite.required_context}")
    data = _signing_input(suite, key.key_type, unsecured, config, loader)
    if not key.verify(signature, data):
        raise ProofVerificationError("the signature does not verify")


def _check_legacy_proof_context(proof_context: Any, document_context: Any) -> None:
    """An RDFC-suite proof that carries ``@context``: older jsonld-signatures put the suite context there instead
    of in the document's ``@context`` and canonicalized the proof configuration with it. Accepted only when the
    proof's context is the document's own or consists of pinned suite contexts (:data:`LEGACY_PROOF_CONTEXTS`);
    the proof configuration is then canonicalized with the proof's own context (Data Integrity 1.0 §2.4.1
    "Validating Contexts": a context the verifier did not approve is an error)."""
    if proof_context == document_context:
        return
    contexts = as_list(proof_context)
    if not contexts or not all(isinstance(c, str) and c in LEGACY_PROOF_CONTEXTS for c in contexts):
        raise ProofVerificationError(
            f"proof.@context {proof_context!r} is not accepted: only the document's @context or the suite "
            f"contexts {sorted(LEGACY_PROOF_CONTEXTS)} may appear there", code="PROOF_CONTEXT_NOT_ALLOWED")
