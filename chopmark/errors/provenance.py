"""Errors of product provenance: GS1 identifiers and Digital Link URIs (more come with the chain checks)."""

from __future__ import annotations

from chopmark.errors.base import CHOPMARK, ChopmarkError


class Gs1Error(ChopmarkError):
    """A GS1 identifier or GS1 Digital Link URI was refused; the instance code says which: ``INVALID_GTIN``,
    ``INVALID_GLN``, ``INVALID_LOT``, ``INVALID_SERIAL``, ``INVALID_DIGITAL_LINK``."""

    type = CHOPMARK + "INVALID_GS1_IDENTIFIER"
    title = "Invalid GS1 identifier"
    code = "INVALID_GS1_IDENTIFIER"
    status = 400
