"""Problem details and the root of the error hierarchy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

VCDM = "https://www.w3.org/TR/vc-data-model#"
SEC = "https://w3id.org/security#"
DID = "https://www.w3.org/ns/did#"
CHOPMARK = "https://chopmark.dev/problems#"


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem detail, as found in verification results and HTTP error bodies."""

    type: str
    title: str
    detail: str
    code: str
    spec_code: int | None = None
    pointer: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (``type``, ``title``, ``detail``, ``code`` and, when set, ``pointer``)."""
        out: dict[str, Any] = {"type": self.type, "title": self.title, "detail": self.detail, "code": self.code}
        if self.spec_code is not None:
            out["specCode"] = self.spec_code
        if self.pointer is not None:
            out["pointer"] = self.pointer
        out.update(self.extra)
        return out


class ChopmarkError(Exception):
    """Base of every error Chopmark raises on purpose.

    Subclasses set ``type`` (problem type URL), ``title``, ``code`` (short, stable), ``status`` (suggested
    HTTP status) and optionally ``spec_code`` (the negative integer code the specifications assign).
    """

    type: ClassVar[str] = CHOPMARK + "ERROR"
    title: ClassVar[str] = "Chopmark error"
    code: ClassVar[str] = "CHOPMARK_ERROR"
    status: ClassVar[int] = 500
    spec_code: ClassVar[int | None] = None

    def __init__(self, detail: str, *, pointer: str | None = None, code: str | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.extra = extra
        if code is not None:
            self.instance_code = code
        else:
            self.instance_code = type(self).code

    def to_problem(self) -> Problem:
        """Return this error as a :class:`Problem`."""
        return Problem(type=self.type, title=self.title, detail=self.detail, code=self.instance_code,
                       spec_code=self.spec_code, pointer=self.pointer, extra=dict(self.extra))
