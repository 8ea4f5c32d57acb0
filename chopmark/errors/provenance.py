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


class LabelError(ChopmarkError):
    """A QR label could not be made: ``LABEL_TOO_LONG`` (the data does not fit a QR symbol at that error
    correction level), ``BAD_LABEL_OPTION`` (an unknown error correction level, a scale out of range)."""

    type = CHOPMARK + "LABEL_ERROR"
    title = "Label refused"
    code = "LABEL_ERROR"
    status = 422
