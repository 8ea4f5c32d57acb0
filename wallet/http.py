"""The wallet's HTTP: JSON over ``urllib`` with a timeout on every request, no redirects, a size cap.

Service URLs are the ones the user gave (registry, authority, site, a credential URL): ``https``, or plain
``http`` to a loopback host only (the local demo). Error answers in ``application/problem+json`` (RFC 9457)
become :class:`~wallet.errors.RemoteError` carrying the server's ``detail``, ``code`` and ``reasons``.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from chopmark.dids import loads_strict_json
from chopmark.errors import ChopmarkError
from wallet.errors import RemoteError

DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 5_000_000
_JSON = "application/json"
USER_AGENT = "chopmark-wallet/1"


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and loopback IP literals."""
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_service_url(url: str) -> str:
    """Return ``url`` without a trailing slash after checking it is https, or http to a loopback host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise RemoteError(f"not a valid URL: {url!r}", code="INVALID_URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname or "@" in parts.netloc or parts.fragment:
        raise RemoteError(f"not an http(s) URL with a host: {url!r}", code="INVALID_URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise RemoteError(f"plain http is only allowed to a loopback host; use https: {url}", code="INSECURE_URL")
    return url.rstrip("/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: a 3xx answer surfaces as an error instead of a silent hop to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """No new request: urllib then raises the 3xx as an HTTPError."""
        return None


def _problem_error(url: str, status: int, body: bytes) -> RemoteError:
    try:
        problem = json.loads(body.decode("utf-8"))
    except (UnicodeError, ValueError):
        problem = None
    if isinstance(problem, dict) and isinstance(problem.get("detail"), str):
        code = problem.get("code") if isinstance(problem.get("code"), str) else "REMOTE_ERROR"
        extra = {"reasons": problem["reasons"]} if isinstance(problem.get("reasons"), list) else {}
        return RemoteError(problem["detail"], code=code, httpStatus=status, url=url, **extra)
    return RemoteError(f"{url} answered HTTP {status}", httpStatus=status, url=url)


class Http:
    """Blocking JSON requests with a per-request ``timeout`` (seconds) and a response cap."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        """Configure the timeout and the response cap."""
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._opener = urllib.request.build_opener(_NoRedirect())

    def get_json(self, url: str) -> Any:
        """GET ``url`` and parse the JSON answer."""
        return self._parse(url, self.request("GET", url, None))

    def post_json(self, url: str, body: Any | None) -> Any:
        """POST ``body`` as JSON (no body when None) and parse the JSON answer."""
        return self._parse(url, self.request("POST", url, body))

    def request(self, method: str, url: str, body: Any | None, *, accept: str = _JSON) -> bytes:
        """Send one request; return the body of a 2xx answer or raise :class:`RemoteError`."""
        check_service_url(url)
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": f"{accept}, application/problem+json", "User-Agent": USER_AGENT})
        if data is not None:
            request.add_header("Content-Type", _JSON)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return self._read(url, response)
        except urllib.error.HTTPError as exc:
            with exc:
                raise _problem_error(url, exc.code, exc.read(self.max_bytes)) from None
        except (urllib.error.URLError, OSError) as exc:
            why = getattr(exc, "reason", None) or exc
            raise RemoteError(f"cannot reach {url}: {why}", code="REMOTE_UNREACHABLE", url=url) from None

    def _read(self, url: str, response: Any) -> bytes:
        body: bytes = response.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise RemoteError(f"the answer of {url} exceeds {self.max_bytes} bytes", code="REMOTE_TOO_LARGE", url=url)
        return body

    @staticmethod
    def parse_json(url: str, body: bytes) -> Any:
        """Strict JSON of an answer of ``url`` (:class:`RemoteError` when it is not)."""
        return Http._parse(url, body)

    @staticmethod
    def _parse(url: str, body: bytes) -> Any:
        try:
            return loads_strict_json(body, RemoteError)
        except ChopmarkError as exc:
            raise RemoteError(f"{url} did not answer JSON: {exc.detail}", code="REMOTE_INVALID_JSON", url=url) from None
