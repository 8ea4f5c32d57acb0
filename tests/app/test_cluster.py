"""The whole service on a real Redis Cluster (3 primaries): every store operation is single-key and hash-tagged,
so issuing, status flips, status lists and challenges work with the keys spread over the nodes."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from chopmark.app import create_app
from chopmark.web.settings import Settings
from tests.support.service import unsigned_credential


@pytest.mark.redis
def test_issue_verify_revoke_on_a_cluster(redis_cluster_url: str, tmp_path: Path) -> None:
    prefix = f"cmtest-{secrets.token_hex(6)}"
    settings = Settings.load({"data_dir": str(tmp_path), "store": f"{redis_cluster_url}?prefix={prefix}",
                              "rate_limit_per_minute": 0}, env={})
    app = create_app(settings)
    client = app.test_client()
    registry = app.extensions["chopmark.registry"]
    registry.issuers.create("acme")
    auth = {"Authorization": "Bearer " + registry.tokens.create(issuer="acme", scopes="issue,status")["token"]}
    ids, vcs = [], []
    for _ in range(5):
        issued = client.post("/credentials/issue", json={"credential": unsigned_credential()}, headers=auth)
        assert issued.status_code == 201, issued.json
        ids.append(issued.json["credentialId"])
        vcs.append(issued.json["verifiableCredential"])
    assert all(client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
               for vc in vcs)
    flip = {"credentialId": ids[0], "credentialStatus": {"statusPurpose": "revocation"}, "status": True}
    assert client.post("/credentials/status", json=flip, headers=auth).status_code == 200
    revoked = client.post("/credentials/verify", json={"verifiableCredential": vcs[0]})
    assert revoked.status_code == 400
    assert [p["code"] for p in revoked.json["problemDetails"]] == ["REVOKED"]
    list_url = vcs[0]["credentialStatus"][0]["statusListCredential"]
    assert client.get(list_url.replace(settings.public_url, "")).status_code == 200
    challenge = client.post("/challenges").json["challenge"]
    assert challenge
    # the records really are spread over several nodes
    cluster = RedisCluster.from_url(redis_cluster_url.replace("redis+cluster", "redis"))
    try:
        owners = {cluster.keyslot(name) for name in cluster.scan_iter(match=f"{prefix}:*")}
        nodes = {cluster.get_node_from_key(name).name for name in cluster.scan_iter(match=f"{prefix}:*")}
    finally:
        cluster.close()
    assert len(owners) > 5 and len(nodes) == 3
    with pytest.raises(redis.exceptions.RedisError):
        redis.Redis.from_url(redis_cluster_url.replace("redis+cluster", "redis")).set(f"{prefix}:x:{{a}}", b"1")
