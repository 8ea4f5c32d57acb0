"""Verification results of credentials and presentations: every check and its outcome, never an exception for a
bad credential. Checks that were not performed are listed as warnings, so a narrowed verification can never be
mistaken for a complete one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chopmark.errors import Problem
from chopmark.errors.base import CHOPMARK
from chopmark.integrity.checks import CheckResult

#: The problem type of every warning: a check that was not performed (or not fully performed).
NOT_CHECKED_TYPE = CHOPMARK + "CHECK_NOT_PERFORMED"


def warning(code: str, detail: str, *, check: str, **extra: Any) -> Problem:
    """A warning: ``check`` was not performed (``code`` such as ``VALIDITY_NOT_CHECKED``). Warnings never make a
    result fail; they say what a ``verified: true`` does not cover."""
    return Problem(type=NOT_CHECKED_TYPE, title="Check not performed", detail=detail, code=code,
                   extra={"check": check, **extra})


@dataclass
class VerificationResult:
    """The result of verifying a credential or presentation.

    ``verified`` is true only when every check passed (and, for a presentation, every enclosed credential
    verified). ``warnings`` name the checks that were not performed.
    """

    checks: list[CheckResult] = field(default_factory=list)
    credentials: list[VerificationResult] = field(default_factory=list)
    kind: str = "credential"
    warnings: list[Problem] = field(default_factory=list)

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

    @property
    def all_warnings(self) -> list[Problem]:
        """Every warning, enclosed credentials included."""
        out = list(self.warnings)
        for cred in self.credentials:
            out.extend(cred.all_warnings)
        return out

    def check(self, name: str) -> CheckResult | None:
        """The first check with that name, if it ran."""
        return next((c for c in self.checks if c.check == name), None)

    def add(self, result: CheckResult) -> None:
        """Record a check."""
        self.checks.append(result)

    def warn(self, code: str, detail: str, *, check: str, **extra: Any) -> None:
        """Record that ``check`` was not performed (see :func:`warning`)."""
        if not any(w.code == code and w.extra == {"check": check, **extra} for w in self.warnings):
            self.warnings.append(warning(code, detail, check=check, **extra))

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``verified``, ``checks``, ``problems``, ``warnings`` and (presentations) ``credentials``."""
        out: dict[str, Any] = {
            "verified": self.verified,
            "kind": self.kind,
            "checks": [c.to_dict() for c in self.checks],
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
        }
        if self.kind == "presentation":
            out["credentials"] = [c.to_dict() for c in self.credentials]
        return out
