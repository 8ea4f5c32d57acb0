"""Concurrency against a real gunicorn server (2 workers), on SQLite and on Redis: parallel issuances get
distinct status indexes, parallel revocations all land in the served list, a challenge is used exactly once."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from chopmark.dids.key import did_key_signer
from chopmark.keys import KeyPair, KeyType
from chopmark.vc import statuslist
from chopmark.vc.presentations import create_presentation, sign_presentation
from tests.support.live import BACKENDS, Deployment, Reply, backend_deployment, get, post, problem_codes, status_entries

pytestmark = [pytest.mark.server, pytest.mark.xdist_group("concurrency-server")]

COUNT = 50
THREADS = 16
T = TypeVar("T")


def in_parallel(fn: Callable[[int], T], count: int = COUNT) -> list[T]:
    """``[fn(0), ..., fn(count - 1)]`` run on a thread pool, released together by a barrier."""
    barrier = threading.Barrier(min(count, THREADS), timeout=30)

    def start(i: int) -> T:
        if i < THREADS:
            barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(start, range(count)))


@pytest.fixture(scope="module", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One server per backend for the module, with issuer ``acme``."""
    with backend_deployment(request, tmp_path_factory, "concurrency") as deployment:
        yield deployment


@pytest.fixture(scope="module")
def batch(live: Deployment) -> list[Reply]:
    """COUNT credentials issued in parallel (the answers, in request order)."""
    suites = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019")
    return in_parallel(lambda i: live.issue(suites[i % len(suites)]))


def test_parallel_issuances_get_distinct_status_entries(batch: list[Reply]) -> None:
    assert [r.status for r in batch] == [201] * COUNT, [r.json for r in batch if r.status != 201][:3]
    assert len({r.json["credentialId"] for r in batch}) == COUNT
    for purpose in ("revocation", "suspension"):
        pairs = [status_entries(r.json["verifiableCredential"])[purpose] for r in batch]
        assert len(set(pairs)) == COUNT, f"{purpose}: {COUNT - len(set(pairs))} duplicate (list, index) pairs"


def set_bits(list_url: str) -> set[int]:
    """The indexes whose bit is set in the served status list."""
    reply = get(list_url)
    assert reply.status == 200, reply.json
    bits = statuslist.decode_list(reply.json["credentialSubject"]["encodedList"])
    found: set[int] = set()
    for position, byte in enumerate(bits):
        if byte:
            found.update(i for i in range(position * 8, position * 8 + 8) if statuslist.get_status(bits, i))
    return found


def test_parallel_revocations_all_land_in_the_served_list(live: Deployment, batch: list[Reply]) -> None:
    ids = [r.json["credentialId"] for r in batch]
    answers = in_parallel(lambda i: live.set_status(ids[i], "revocation", True))
    assert [a.status for a in answers] == [200] * COUNT, [a.json for a in answers if a.status != 200][:3]
    assert all(a.json["previous"] is False for a in answers)
    expected: dict[str, set[int]] = {}
    for reply in batch:
        list_url, index = status_entries(reply.json["verifiableCredential"])["revocation"]
        expected.setdefault(list_url, set()).add(index)
    for list_url, indexes in expected.items():
        assert set_bits(list_url) == indexes
    for reply in batch[:4]:  # and the verifier sees it
        verdict = live.verify(reply.json["verifiableCredential"])
        assert verdict.status == 400 and "REVOKED" in problem_codes(verdict.json, "status")


def race_for_challenge(live: Deployment) -> list[Reply]:
    """Two verifications of one presentation with one fresh challenge, sent at the same moment."""
    challenge = post(live.at("/challenges"), {}).json["challenge"]
    holder, signer = did_key_signer(KeyPair.generate(KeyType.ED25519, os.urandom))
    vp = sign_presentation(create_presentation([], holder=holder), signer, challenge=challenge, domain="race.example")
    body: dict[str, Any] = {"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": "race.example"}}
    barrier = threading.Barrier(2, timeout=30)

    def send(_: int) -> Reply:
        barrier.wait()
        return post(live.at("/presentations/verify"), body)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(send, range(2)))


def test_concurrent_uses_of_one_challenge_succeed_once(live: Deployment) -> None:
    for _ in range(5):
        answers = race_for_challenge(live)
        statuses = sorted(a.status for a in answers)
        assert statuses == [200, 400], [a.json for a in answers]
        loser = next(a for a in answers if a.status == 400)
        assert problem_codes(loser.json) == ["INVALID_CHALLENGE_ERROR"], loser.json
