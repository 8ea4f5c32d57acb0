"""Chopmark: W3C Verifiable Credentials (Data Model 2.0, Data Integrity 1.0) for cross-border commerce.

The kernel is pure: documents loaders, DID resolvers, status checkers, clocks and randomness are passed in.

>>> from chopmark import KeyPair, KeyType, Resolver, issue, verify_credential
"""

from chopmark.dids import Resolver
from chopmark.errors import ChopmarkError, Problem
from chopmark.integrity.checks import CheckResult
from chopmark.integrity.suites import SUITES
from chopmark.jsonld import DocumentLoader
from chopmark.keys import KeyPair, KeyType, PublicKey
from chopmark.vc.credentials import issue, verify_credential
from chopmark.vc.presentations import create_presentation, sign_presentation, verify_presentation
from chopmark.vc.results import VerificationResult

__version__ = "0.1.0"

__all__ = [
    "SUITES",
    "CheckResult",
    "ChopmarkError",
    "DocumentLoader",
    "KeyPair",
    "KeyType",
    "Problem",
    "PublicKey",
    "Resolver",
    "VerificationResult",
    "create_presentation",
    "issue",
    "sign_presentation",
    "verify_credential",
    "verify_presentation",
]
