"""Verification results of credentials and presentations: every check and its outcome, never an exception for a
bad credential."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chopmark.errors import Problem
from chopmark.integrity.checks import CheckResult


@dataclass
class VerificationResult:
    """The result of verifying a credential or presentation.

    ``verified`` is true only when every check passed (and, for a presentation, every enclosed credential
    verified).
    """

    checks: list[CheckResult] = field(default_factory=list)
    credentials: list[VerificationResult] = field(default_factory=list)
    kind: str = "credential"

    @property
    def verified(self) -> bool:
        """True only if at least one check ran and every check (and enclosed credential) passed."""
        return bool(self.checks) and all(c.passed for c in self.checks) and all(
            c.verified for c in self.credentials)

    @property
    def problems(self) -> list[Problem]:
        """Every problem of every failed check, enclosed credentials included."""
        out = [p for c in self.checks for p in c.problems]
        for cred in self.credentials:
            out.extend(cred.problems)
        return out

    def check(self, name: str) -> CheckResult | None:
        """The first check with that name, if it ran."""
        return next((c for c in self.checks if c.check == name), None)

    def add(self, result: CheckResult) -> None:
        """Record a check."""
        self.checks.append(result)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``verified``, ``checks``, ``problems`` and (presentations) ``credentials``."""
        out: dict[str, Any] = {
            "verified": self.verified,
            "kind": self.kind,
            "checks": [c.to_dict() for c in self.checks],
            "problems": [p.to_dict() for p in self.problems],
        }
        if self.kind == "presentation":
            out["credentials"] = [c.to_dict() for c in self.credentials]
        return out
