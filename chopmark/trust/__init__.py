"""Trust: which issuers may issue what, evaluated over a signed ``TrustListCredential`` (:mod:`.lists`, re-exported
here), and DIF Well-Known DID Configuration domain linkage (:mod:`.domainlinkage`). Pure: fetching is the
caller's. May import: ``chopmark.vocab``, ``chopmark.vc`` and the layers below.
"""

from chopmark.trust.lists import (
    ACTIVE,
    AUTHORIZED,
    ENTRY_SUSPENDED,
    EXPIRED,
    INVALID_ENTRY,
    ISSUE,
    JURISDICTION_NOT_COVERED,
    MEMBER_SITE,
    NOT_LISTED,
    NOT_YET_VALID,
    SITE,
    SUSPENDED,
    TrustDecision,
    evaluate,
    is_member,
    member,
    verify_trust_list,
)

__all__ = ["ACTIVE", "AUTHORIZED", "ENTRY_SUSPENDED", "EXPIRED", "INVALID_ENTRY", "ISSUE",
    "JURISDICTION_NOT_COVERED", "MEMBER_SITE", "NOT_LISTED", "NOT_YET_VALID", "SITE", "SUSPENDED", "TrustDecision",
    "evaluate", "is_member", "member", "verify_trust_list"]
