"""Wallet role: a merchant's holder key and credentials, answering requests with signed presentations.

* :mod:`wallet.core` — :class:`~wallet.core.Wallet`, the library API (create/open, DID, credentials, settings,
  ``present``, ``did_auth``, export/import); no printing, no network.
* :mod:`wallet.vault` — the encrypted wallet file (scrypt + AES-256-GCM / ChaCha20-Poly1305, atomic writes).
* :mod:`wallet.query` — Verifiable Presentation Request matching (QueryByExample, DIDAuthentication).
* :mod:`wallet.checks` — what is checked before a credential is stored; the signed, cached trust list.
* :mod:`wallet.client` / :mod:`wallet.http` — KYB, onboarding, receiving from a URL, did:web resolution.
* :mod:`wallet.cli` — ``chopmark wallet ...`` (with :mod:`wallet.cli_remote`, :mod:`wallet.render`).
* :mod:`wallet.errors` — the WalletError family (codes WALLET_LOCKED, WALLET_CORRUPT, CREDENTIAL_REFUSED, ...).
* :mod:`wallet.demo` — ``chopmark demo identity``: the merchant's story against a running service (the root
  command wires in the deployment it prepares, :class:`~wallet.demo.IdentityDemoHost`).

May import the kernel, ``chopmark.net``, ``chopmark.web`` and ``chopmark.cli.kit``; never another role.
"""
