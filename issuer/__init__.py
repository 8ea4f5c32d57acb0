"""Issuer role: issuer instances (tenants) that mint W3C Verifiable Credentials over the VC API.

It will own the issuance service (merchant identity, product provenance and photo copyright credentials),
the status-list allocation for what it issues, and its Flask blueprint. It builds on the ``chopmark`` kernel.
"""
