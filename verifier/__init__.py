"""Verifier role: marketplace sites that verify credentials and presentations against their own policy.

* :mod:`verifier.service` -- VC API verification, challenges, the status and DID sources; :mod:`verifier.results`.
* :mod:`verifier.sites`, :mod:`verifier.policy`, :mod:`verifier.onboarding` -- site profiles, the onboarding
  policy and exchanges, seller records and re-checks; :mod:`verifier.trust` -- the trust registry's decisions.
* :mod:`verifier.blueprint`, :mod:`verifier.openapi` -- its routes and OpenAPI fragments; :mod:`verifier.cli`
  (``chopmark site ...``).
* :mod:`verifier.ports` -- what it needs of the issuer (seller credentials and their status), as a Protocol.

May import the kernel, ``chopmark.store``, ``chopmark.net``, ``chopmark.web`` and ``chopmark.cli.kit``; never
another role.
"""
