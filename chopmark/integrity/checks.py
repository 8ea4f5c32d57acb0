"""The outcome of one named check (a proof, the data model, validity, status, a schema...): whether it passed,
the RFC 9457 problems when it did not, and details. Every verifier in the kernel reports in these, and never
raises for a bad document."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chopmark.errors import ChopmarkError, Problem


@dataclass
class CheckResult:
    """The outcome of one named check (``proof``, ``validity``, ``dataModel``, ``issuerBinding``, ...)."""

    check: str
    passed: bool
    problems: list[Problem] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, check: str, **details: Any) -> CheckResult:
        """A passed check."""
        return cls(check=check, passed=True, details=dict(details))

    @classmethod
    def failed(cls, check: str, errors: Iterable[ChopmarkError], **details: Any) -> CheckResult:
        """A failed check carrying the problems of ``errors``."""
        problems = [e.to_problem() for e in errors]
        return cls(check=check, passed=False, problems=problems, details=dict(details))

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {"check": self.check, "passed": self.passed}
        if self.problems:
            out["problems"] = [p.to_dict() for p in self.problems]
        if self.details:
            out["details"] = self.details
        return out
