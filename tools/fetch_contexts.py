#!/usr/bin/env python3
"""Fetch the pinned JSON-LD contexts that Chopmark ships in ``chopmark/jsonld/contexts/``.

Reproducible: every context comes from an exact registry package version, never from the web.

* npm packages are downloaded with ``npm pack <name>@<version>`` into a temporary directory; the tarball's
  SHA-512 must equal the ``integrity`` pinned below (the value the npm registry publishes as
  ``dist.integrity``), then the one context file is read out of the tarball.
* pyld's bundled copies are read from the installed ``pyld`` package, whose version must equal the pin.

The files are written byte for byte as published, and ``chopmark/jsonld/contexts/index.json`` maps each URL to
``{"file", "sha256", "source"}``. ``chopmark.jsonld.DocumentLoader`` checks every file against its SHA-256 at
first load. Run from the repository root: ``.venv/bin/python tools/fetch_contexts.py``.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "chopmark" / "jsonld" / "contexts"
PYLD_VERSION = "3.3.0"


@dataclass(frozen=True)
class NpmPackage:
    """One npm package version and the SHA-512 integrity of its tarball."""

    name: str
    version: str
    integrity: str


@dataclass(frozen=True)
class Pin:
    """One context URL, the file it is saved as, and where it comes from (npm package or pyld)."""

    url: str
    file: str
    path: str
    npm: NpmPackage | None = None
    sri: str | None = None  # for "spec" pins: the digestSRI the W3C Recommendation prints for the file


CRED = NpmPackage(
    "@digitalbazaar/credentials-context", "3.2.0",
    "sha512-WruXZAF182pCYq/z2JPJ4N4mVDu6pd/hr7widdCqbKekA53BXHoX7XhL9tmRmQ8kfmkaStBfla67QHhkchWYBQ==")
EXAMPLES = NpmPackage(
    "@digitalbazaar/credentials-examples-context", "1.0.0",
    "sha512-BcNaWZidtWGggxXBZKKrYlvXFaT1YQhdEwXkRbeYdF1JA8paSvfMkWJsEM5StpG2ckTqeJ6nVYmtsJ0Fe58dBA==")
ODRL = NpmPackage(
    "@digitalbazaar/odrl-context", "1.0.0",
    "sha512-pwPzpTzzKv85o/ptImZOcAIK14mM2qYqHG3i17Miv/9AlClRIoX4OJRrXsCcA1KVYLaeQmpXfXHfyIRL2YAuTg==")
DI = NpmPackage(
    "@digitalbazaar/data-integrity-context", "2.0.1",
    "sha512-XpXUzId6ZIEaNq9R+Fv3LrArj1bRj0QX3yfYgxi2bGZGIMs8EkdwsQdzTq38cmHXBQz4DASVun7mBtwrEqjf3g==")
MULTIKEY = NpmPackage(
    "@digitalbazaar/multikey-context", "2.0.1",
    "sha512-fHuaJNWpHLZH20GQemS+iPUn7/GuZ62UGhpmD9aZuKvN62lrPTeBK1V6C1BvfdIIWRsCqa1CUda+PDZa6d6X1A==")
DID = NpmPackage(
    "did-context", "3.1.1",
    "sha512-iFpszgSxc7d1kNBJWC+PAzNTpe5LPalzsIunTMIpbG3O37Q7Zi7u4iIaedaM7UhziBhT+Agr9DyvAiXSUyfepQ==")
ED2020 = NpmPackage(
    "ed25519-signature-2020-context", "1.1.0",
    "sha512-dBGSmoUIK6h2vadDctrDnhhTO01PR2hJk0mRNEfrRDPCjaIwrfy4J+eziEQ9Q1m8By4f/CSRgKM1h53ydKfdNg==")
BITSTRING = NpmPackage(
    "@digitalbazaar/vc-bitstring-status-list-context", "1.1.0",
    "sha512-IULBb2BJ/FQwTwdmvtltBb9JspWXY4tS2ZimRtFfWBJW6T35r6x8TzRK6eDVHpLLEzeJs1jCvqqTXWH0RJgQRA==")
STATUS2021 = NpmPackage(
    "@digitalbazaar/vc-status-list-context", "3.1.1",
    "sha512-cMVtd+EV+4KN2kUG4/vsV74JVsGE6dcpod6zRoFB/AJA2W/sZbJqR44KL3G6P262+GcAECNhtnSsKsTnQ6y8+w==")
CITIZENSHIP = NpmPackage(
    "@digitalbazaar/citizenship-context", "4.1.0",
    "sha512-y8HbE29rmEg4uq06VCFDWHgRgbecOUg+aOIZGdoWoQ3uz4Xd1UmIP8ZFeOdAcExosqCI0Pe9imoxWqUtvb0+JA==")
VDL = NpmPackage(
    "@digitalbazaar/vdl-context", "1.0.0",
    "sha512-YHVPoeQ9efq4W7+xaOW9M2i8x69YgaekcDwsRoO0NvGc54rkDDpAd2w0pMcFw8/4QH3WHPbuOCfIsUflGOYrcQ==")
VDL_AAMVA = NpmPackage(
    "@digitalbazaar/vdl-aamva-context", "1.0.0",
    "sha512-bBZcNbiRR4LDdoijt0qRY9ZAQuKAa+LYcqAOW1oKlnFQFV0dSVbng7NvHXSgdTruXqBBNvFCW9+spe+YX9fnNQ==")

PINS: tuple[Pin, ...] = (
    Pin("https://www.w3.org/ns/credentials/v2", "credentials-v2.jsonld", "contexts/v2.jsonld", CRED),
    Pin("https://www.w3.org/2018/credentials/v1", "credentials-v1.jsonld", "contexts/v1.jsonld", CRED),
    Pin("https://www.w3.org/ns/credentials/undefined-terms/v2", "credentials-undefined-terms-v2.jsonld",
        "contexts/undefined-terms-v2.jsonld", CRED),
    Pin("https://www.w3.org/2018/credentials/examples/v1", "credentials-examples-v1.jsonld",
        "contexts/credentials-examples-v1.jsonld", EXAMPLES),
    Pin("https://www.w3.org/ns/odrl.jsonld", "odrl.jsonld", "contexts/odrl.jsonld", ODRL),
    Pin("https://w3id.org/security/data-integrity/v1", "data-integrity-v1.jsonld",
        "contexts/data-integrity-v1.jsonld", DI),
    Pin("https://w3id.org/security/data-integrity/v2", "data-integrity-v2.jsonld",
        "contexts/data-integrity-v2.jsonld", DI),
    Pin("https://w3id.org/security/multikey/v1", "multikey-v1.jsonld", "contexts/multikey-v1.jsonld",
        MULTIKEY),
    Pin("https://www.w3.org/ns/did/v1", "did-v1.jsonld", "contexts/did-v1.jsonld", DID),
    Pin("https://w3id.org/security/suites/ed25519-2020/v1", "ed25519-2020-v1.jsonld",
        "contexts/ed25519-signature-2020-v1.jsonld", ED2020),
    Pin("https://www.w3.org/ns/credentials/status/v1", "credentials-status-v1.jsonld",
        "contexts/vc-bitstring-status-list-v1.jsonld", BITSTRING),
    Pin("https://w3id.org/vc/status-list/2021/v1", "vc-status-list-2021-v1.jsonld",
        "contexts/vc-status-list-v1.jsonld", STATUS2021),
    Pin("https://w3id.org/citizenship/v1", "citizenship-v1.jsonld", "contexts/v1.jsonld", CITIZENSHIP),
    Pin("https://w3id.org/citizenship/v2", "citizenship-v2.jsonld", "contexts/v2.jsonld", CITIZENSHIP),
    Pin("https://w3id.org/citizenship/v3", "citizenship-v3.jsonld", "contexts/v3.jsonld", CITIZENSHIP),
    Pin("https://w3id.org/citizenship/v4rc1", "citizenship-v4rc1.jsonld", "contexts/v4rc1.jsonld",
        CITIZENSHIP),
    Pin("https://w3id.org/vdl/v1", "vdl-v1.jsonld", "contexts/vdl-v1.jsonld", VDL),
    Pin("https://w3id.org/vdl/aamva/v1", "vdl-aamva-v1.jsonld", "contexts/vdl-aamva-v1.jsonld", VDL_AAMVA),
    # pyld's bundled copies (documentloader/frozen/bundled/) for the legacy security vocabularies.
    Pin("https://w3id.org/security/v1", "security-v1.jsonld",
        "documentloader/frozen/bundled/security-v1.jsonld"),
    Pin("https://w3id.org/security/v2", "security-v2.jsonld",
        "documentloader/frozen/bundled/security-v2.jsonld"),
    Pin("https://w3id.org/security/suites/jws-2020/v1", "jws-2020-v1.jsonld",
        "documentloader/frozen/bundled/security-jws-2020-v1.jsonld"),
)


# The examples/v2 context ships in no registry package. Its whole content is one @vocab line; we write it
# ourselves and accept it only if its bytes hash to the digestSRI printed in the VC 2.0 Recommendation
# (w3c/vc-data-model transitions/2025/REC, example "Use of the digestSRI property", without the stray "M").
EXAMPLES_V2_TEXT = '{\n  "@context": {\n    "@vocab": "https://www.w3.org/ns/credentials/examples#"\n  }\n}\n'
EXAMPLES_V2_SRI = "sha384-zNNbQTWCSUSi0bbz7dbua+RcENv7C6FvlmYJ1Y+I727HsPOHdzwELMYO9Mz68M26"
SPEC_TEXTS = {"https://www.w3.org/ns/credentials/examples/v2": EXAMPLES_V2_TEXT}
PINS = (*PINS, Pin("https://www.w3.org/ns/credentials/examples/v2", "credentials-examples-v2.jsonld",
                   "VC-DATA-MODEL-2.0-REC", sri=EXAMPLES_V2_SRI))


def _spec_file(pin: Pin) -> bytes:
    """Return a context written from its specification, checked against the digest the spec prints."""
    data = SPEC_TEXTS[pin.url].encode("utf-8")
    alg, _, expected = (pin.sri or "").partition("-")
    if base64.b64encode(hashlib.new(alg, data).digest()).decode() != expected:
        raise SystemExit(f"{pin.url}: bytes do not match the Recommendation's digest {pin.sri}")
    return data


def _integrity(data: bytes) -> str:
    """Return the npm ``dist.integrity`` string (SHA-512, base64) of a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _npm_pack(pkg: NpmPackage, workdir: Path) -> bytes:
    """Download ``pkg`` with ``npm pack`` and return the verified tarball bytes."""
    spec = f"{pkg.name}@{pkg.version}"
    out = subprocess.run(["npm", "pack", spec, "--json", "--silent"], cwd=workdir, check=True,
                         capture_output=True, text=True).stdout
    filename = json.loads(out)[0]["filename"]
    data = (workdir / filename).read_bytes()
    if _integrity(data) != pkg.integrity:
        raise SystemExit(f"integrity mismatch for {spec}: got {_integrity(data)}")
    return data


def _read_member(tarball: Path, member: str) -> bytes:
    """Return one regular file of an npm tarball (members live under ``package/``)."""
    with tarfile.open(tarball, "r:gz") as tar:
        info = tar.getmember("package/" + member)
        if not info.isfile():
            raise SystemExit(f"{member} is not a regular file in {tarball.name}")
        handle = tar.extractfile(info)
        if handle is None:
            raise SystemExit(f"cannot read {member} from {tarball.name}")
        return handle.read()


def _pyld_file(path: str) -> bytes:
    """Return a file of the installed pyld package, which must be the pinned version."""
    installed = importlib.metadata.version("pyld")
    if installed != PYLD_VERSION:
        raise SystemExit(f"pyld {PYLD_VERSION} is pinned but {installed} is installed")
    import pyld

    return (Path(pyld.__file__).parent / path).read_bytes()


def _own_vocabulary() -> dict[str, dict[str, str]]:
    """Chopmark's own contexts (source ``chopmark:``) are kept, re-pinned to their current bytes."""
    current = json.loads((OUT / "index.json").read_text(encoding="utf-8"))
    own = {url: pin for url, pin in current.items() if pin["source"].startswith("chopmark:")}
    for pin in own.values():
        pin["sha256"] = hashlib.sha256((OUT / pin["file"]).read_bytes()).hexdigest()
    return own


def main() -> int:
    """Fetch every pinned context, write the files and ``index.json``; return the exit status."""
    OUT.mkdir(parents=True, exist_ok=True)
    index: dict[str, dict[str, str]] = {}
    tarballs: dict[NpmPackage, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pin in PINS:
            if pin.sri is not None:
                data = _spec_file(pin)
                source = f"spec:{pin.path}:{pin.sri}"
            elif pin.npm is None:
                data = _pyld_file(pin.path)
                source = f"pyld:{PYLD_VERSION}:{pin.path}"
            else:
                if pin.npm not in tarballs:
                    tarballs[pin.npm] = Path(tmp) / f"{len(tarballs)}.tgz"
                    tarballs[pin.npm].write_bytes(_npm_pack(pin.npm, Path(tmp)))
                data = _read_member(tarballs[pin.npm], pin.path)
                source = f"npm:{pin.npm.name}@{pin.npm.version}:{pin.path}"
            json.loads(data)  # every context must be JSON
            (OUT / pin.file).write_bytes(data)
            index[pin.url] = {"file": pin.file, "sha256": hashlib.sha256(data).hexdigest(), "source": source}
            print(f"{pin.url} <- {source}")
    index.update(_own_vocabulary())
    (OUT / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(index)} contexts to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
