"""Issuer role: issuer instances (tenants) that mint W3C Verifiable Credentials over the VC API.

* :mod:`issuer.service` -- issuing, records, idempotency and status changes (VCALM); :mod:`issuer.blueprint`.
* :mod:`issuer.kyb` -- the KYB authority's exchanges with DID Authentication (MerchantIdentityCredential).
* :mod:`issuer.campaigns` (and ``campaigns_*``) -- first-N ranking campaigns; :mod:`issuer.campaigns_blueprint`.
* :mod:`issuer.openapi` -- its OpenAPI fragments; :mod:`issuer.cli` (``verify-rank``, ``campaign``) and
  :mod:`issuer.demo` (``demo ranking``).
* :mod:`issuer.ports` -- what it needs of the registry (instances and signers, status allocation, evidence
  log) and of the verifier (presentation checks, trust decisions), as Protocols ``create_app`` satisfies.

May import the kernel, ``chopmark.store``, ``chopmark.net``, ``chopmark.web`` and ``chopmark.cli.kit``; never
another role.
"""
