"""Registry role: publishes DID documents, status lists, the trust registry and the evidence log.

* :mod:`registry.service` -- :class:`~registry.service.Registry`, the role as one value over one store.
* :mod:`registry.issuers`, :mod:`registry.keystore`, :mod:`registry.tokens` -- issuer instances, their sealed
  keys and DID documents, API tokens; :mod:`registry.statuslists` -- Bitstring Status List credentials.
* :mod:`registry.trust` -- the trust registry; :mod:`registry.evidence` (and ``evidence_*``) -- the append-only
  Merkle evidence log with signed checkpoints.
* Blueprints (``blueprint``, ``trust_blueprint``, ``evidence_blueprint``), :mod:`registry.openapi` (its OpenAPI
  fragments), and its commands: :mod:`registry.cli` (``issuer``, ``token``, ``status-list``),
  :mod:`registry.trust_cli` (``trust``), :mod:`registry.log_cli` (``log``).

May import the kernel, ``chopmark.store``, ``chopmark.net``, ``chopmark.web`` and ``chopmark.cli.kit``; never
another role.
"""
