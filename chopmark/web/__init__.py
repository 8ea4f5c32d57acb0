"""The HTTP seam shared by every role's blueprints: problem details, bearer-token auth, body and rate limits
(:mod:`.plumbing`), settings read once from flags and the environment (:mod:`.settings`), the gunicorn server
(:mod:`.server`), single-use VC API exchanges that the issuer's KYB and the sites' onboarding both open
(:mod:`.exchanges`), and the OpenAPI document assembled from the roles' fragments (:mod:`.openapi`,
:mod:`.openapi_schemas`). Not pure: reads the environment and the clock. May import the kernel and
``chopmark.store``; never a role.
"""
