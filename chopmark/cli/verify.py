"""``chopmark verify``: verify a credential or presentation and print the JSON result naming every check.

Documents come from ``--doc URL=FILE`` (offline, the default) and, with ``--online``, from the SSRF-safe fetcher
(:class:`chopmark.net.fetch.SafeFetcher`; plain http only to loopback and only with ``--allow-loopback-http``).

Status (W3C Bitstring Status List v1.0 §3.2) is checked for every ``credentialStatus`` entry by the kernel's
:func:`chopmark.vc.statuslist.status_checker`; the status list credential must itself verify (§3.2 step 4: proof,
validity period) and be issued by the credential's issuer. Status fails closed: a list that was not supplied
(offline) is a failure with code ``STATUS_NOT_CHECKED``; ``--no-status`` skips status instead, and the result then
carries a warning naming the check not performed. Exit 0 when verified, 1 when not, 2 on usage errors.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import click

from chopmark.cli.jsonio import emit, parse_now, read_json
from chopmark.dids import Resolver
from chopmark.dids.web import loads_strict_json
from chopmark.errors import (
    ChopmarkError,
    DidNotFoundError,
    FetchError,
    StatusRetrievalError,
)
from chopmark.integrity.suites import SUITES
from chopmark.jsonld import DocumentLoader
from chopmark.jsonld.values import as_list
from chopmark.net.fetch import SafeFetcher, is_loopback
from chopmark.vc import statuslist
from chopmark.vc.credentials import StatusChecker, verify_credential
from chopmark.vc.presentations import verify_presentation
from chopmark.vc.results import VerificationResult

#: The code of a status check that was not performed (the list was not supplied, or ``--no-status``).
STATUS_NOT_CHECKED = "STATUS_NOT_CHECKED"
#: The byte cap of one fetched document (a 16 KB-minimum status list, compressed, fits many times over).
MAX_FETCH_BYTES = 1_000_000


def _loopback_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or is_loopback(host)


def with_loopback_aliases(documents: Mapping[str, Any]) -> dict[str, Any]:
    """``documents`` plus, for each ``http://`` loopback URL, the same document under its ``https://`` twin: the
    URL did:web resolution asks for (did:web Read step 3 always says https) while a local server serves http."""
    out = dict(documents)
    for url, document in documents.items():
        if url.startswith("http://") and _loopback_host(url):
            out.setdefault("https://" + url[len("http://"):], document)
    return out


@dataclass
class Sources:
    """Where one run gets documents: the ``--doc`` files, then (``--online``) the fetcher; nothing else."""

    documents: dict[str, Any]
    fetcher: SafeFetcher | None = None
    _fetched: dict[str, bytes] = field(default_factory=dict)

    def _get(self, fetcher: SafeFetcher, url: str) -> bytes:
        # one fetch per URL and run: a credential, its proof and its status lists name the same DID
        if url not in self._fetched:
            try:
                self._fetched[url] = fetcher(url)
            except FetchError as exc:
                if not _loopback_host(url) or fetcher.allow_http_loopback:
                    raise
                raise FetchError(f"{exc.detail} (a local server: add --allow-loopback-http)") from None
        return self._fetched[url]

    def did_document(self, url: str) -> bytes:
        """The Resolver's ``web_fetch``: the did.json at ``url`` (https, did:web Read step 3), fetched when
        online (over http for a loopback host when loopback http is allowed); offline it names the way out."""
        fetcher = self.fetcher
        if fetcher is None:
            raise DidNotFoundError(f"the DID document {url} is not available offline: pass --doc {url}=FILE or "
                                   "--online")
        if fetcher.allow_http_loopback and _loopback_host(url):
            url = "http://" + url[len("https://"):]
        return self._get(fetcher, url)

    def status_list(self, url: str) -> Any:
        """The status list credential at ``url`` (§3.2 step 4, dereference): given by ``--doc`` or fetched."""
        if url in self.documents:
            return self.documents[url]
        fetcher = self.fetcher
        if fetcher is None:
            raise StatusRetrievalError(f"status not checked: the status list {url} was not supplied; pass --doc "
                                       f"{url}=FILE or --online (or --no-status to skip status)",
                                       code=STATUS_NOT_CHECKED)
        try:
            return loads_strict_json(self._get(fetcher, url), StatusRetrievalError)
        except ChopmarkError as exc:
            raise StatusRetrievalError(f"could not retrieve {url}: {exc.detail}") from None


def status_checker(sources: Sources, *, resolver: Resolver, loader: DocumentLoader, now: datetime,
                   accepted_suites: Collection[str]) -> StatusChecker:
    """The kernel's Bitstring Status List checker over ``sources``, each list credential verified once."""
    verified: dict[str, Mapping[str, Any]] = {}

    def list_for(url: str, credential: Mapping[str, Any]) -> Mapping[str, Any]:
        if url not in verified:
            document = sources.status_list(url)
            if not isinstance(document, Mapping):
                raise StatusRetrievalError(f"{url} did not yield a credential")
            # §3.2 step 4: the status list credential's proofs and validity period are verified like any other
            result = verify_credential(document, resolver=resolver, now=now, loader=loader,
                                       accepted_suites=accepted_suites)
            codes = [] if result.verified else [p.code for p in result.problems] or ["NOT_VERIFIED"]
            statuslist.require_list_verified(url, codes)
            verified[url] = document
        # Chopmark policy (as the verifier service): a list counts only when the credential's issuer issued it
        statuslist.require_list_issuer(url, verified[url], credential)
        return verified[url]

    def check(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> Mapping[str, Any]:
        # §3.2 steps 5-15 in the kernel; the list's validity period was checked above, with the usual clock skew
        kernel = statuslist.status_checker(lambda url: list_for(url, credential))
        return kernel(entry, credential)

    return check


def skipping_checker(skipped: list[str]) -> StatusChecker:
    """``--no-status``: every entry is reported as not checked (and its list URL recorded in ``skipped``)."""
    def check(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> Mapping[str, Any]:
        url = entry.get("statusListCredential") if isinstance(entry, Mapping) else None
        skipped.append(str(url))
        return {"listCredential": url, "checked": False}
    return check


def _skipped_status(result: VerificationResult, skipped: list[str]) -> list[dict[str, Any]]:
    """Mark the status checks that were skipped and return the warning naming them (none when none ran)."""
    for each in [result, *result.credentials]:
        status = each.check("status")
        if status is not None:
            status.details["skipped"] = True
    if not skipped:
        return []
    detail = (f"status not checked (--no-status): {len(skipped)} credentialStatus entr"
              f"{'y' if len(skipped) == 1 else 'ies'} ({', '.join(dict.fromkeys(skipped))})")
    return [{"check": "status", "code": STATUS_NOT_CHECKED, "detail": detail}]


def _documents(pairs: tuple[str, ...], option: str) -> dict[str, Any]:
    docs: dict[str, Any] = {}
    for pair in pairs:
        url, sep, path = pair.partition("=")
        if not sep or not url or not path:
            raise click.BadParameter(f"expected URL=FILE, got {pair!r}", param_hint=option)
        docs[url] = read_json(path, option)
    return docs


def _print_result(result: VerificationResult, warnings: list[dict[str, Any]]) -> None:
    """Print the JSON result, with ``warnings`` when there are any (also one line each on stderr)."""
    output = result.to_dict()
    if warnings:  # only then: the output of a credential without status stays as it was
        output["warnings"] = warnings
        for warning in warnings:
            click.echo(f"chopmark: warning: {warning['detail']}", err=True)
    emit(output)


def _is_presentation(document: Any) -> bool:
    types = document.get("type") if isinstance(document, Mapping) else None
    return "VerifiablePresentation" in as_list(types)


@click.command()
@click.argument("source")
@click.option("--now", help="Verify as of this time (XML Schema dateTimeStamp); default now.")
@click.option("--doc", "docs", multiple=True,
              help="URL=FILE: a document for a URL (a did:web document by DID or did.json URL, http:// loopback "
                   "URLs included; a status list credential by its URL).")
@click.option("--context", "contexts", multiple=True, help="URL=FILE: an extra JSON-LD context to allow.")
@click.option("--challenge", help="Expected presentation challenge.")
@click.option("--domain", help="Expected presentation domain.")
@click.option("--suite", "suites", multiple=True, type=click.Choice(list(SUITES)),
              help="Accepted suite (repeatable); default: all known suites.")
@click.option("--no-issuer-binding", is_flag=True, help="Do not require the issuer to control the key.")
@click.option("--online", is_flag=True, help="Fetch did:web documents and status lists not given by --doc "
              "(https only, public addresses only, no redirects).")
@click.option("--allow-loopback-http", is_flag=True, help="With --online: also fetch over plain http from "
              "loopback addresses (a local server).")
@click.option("--no-status", is_flag=True, help="Do not check credentialStatus (the result warns that it was not "
              "checked); without it a status list that cannot be had fails verification.")
def verify(source: str, now: str | None, docs: tuple[str, ...], contexts: tuple[str, ...],
           challenge: str | None, domain: str | None, suites: tuple[str, ...], no_issuer_binding: bool,
           online: bool, allow_loopback_http: bool, no_status: bool) -> None:
    """Verify a credential or presentation; print the JSON result; exit 0 if verified, else 1."""
    if allow_loopback_http and not online:
        raise click.UsageError("--allow-loopback-http needs --online")
    document = read_json(source, "document")
    moment = parse_now(now)
    fetcher = SafeFetcher(allow_http_loopback=allow_loopback_http, max_bytes=MAX_FETCH_BYTES) if online else None
    sources = Sources(with_loopback_aliases(_documents(docs, "--doc")), fetcher)
    resolver = Resolver(documents=sources.documents, web_fetch=sources.did_document)
    loader = DocumentLoader.pinned()
    if contexts:
        loader = loader.with_documents(_documents(contexts, "--context"))
    accepted = suites or tuple(SUITES)
    skipped: list[str] = []
    checker = skipping_checker(skipped) if no_status else status_checker(
        sources, resolver=resolver, loader=loader, now=moment, accepted_suites=accepted)
    if _is_presentation(document):
        result = verify_presentation(document, resolver=resolver, now=moment, challenge=challenge, domain=domain,
                                     loader=loader, accepted_suites=accepted, issuer_binding=not no_issuer_binding,
                                     status_checker=checker)
    else:
        result = verify_credential(document, resolver=resolver, now=moment, loader=loader, accepted_suites=accepted,
                                   issuer_binding=not no_issuer_binding, status_checker=checker)
    _print_result(result, _skipped_status(result, skipped) if no_status else [])
    sys.exit(0 if result.verified else 1)
