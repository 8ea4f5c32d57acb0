"""Test helpers: a private ``redis-server`` on a free loopback port (never the machine's shared Redis)."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import redis

START_TIMEOUT = 15.0


def redis_server_binary() -> str | None:
    """The path of ``redis-server``, or None when it is not installed."""
    return shutil.which("redis-server")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    """True when the Redis server at ``url`` answers PING."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


class OwnRedis:
    """A ``redis-server`` child process with its own data directory and port (AOF on)."""

    def __init__(self, binary: str, data_dir: Path, port: int, appendfsync: str,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.extra_args = extra_args
        self.binary = binary
        self.data_dir = data_dir
        self.port = port
        self.appendfsync = appendfsync
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        """Start the server (replaying the AOF of ``data_dir`` if any) and wait until it answers PING."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "", "--daemonize", "no",
                *self.extra_args]
        if self._log is None:
            self._log = (self.data_dir / "redis.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while not redis_answers(self.url, timeout=0.5):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = (self.data_dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{log}")
            time.sleep(0.05)

    def kill9(self) -> None:
        """Kill the server with SIGKILL (no shutdown, no final fsync) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        """Start again on the same port and directory (so the append-only file is replayed)."""
        self.stop()
        self.start()

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.proc = None

    def close(self) -> None:
        """Stop the server and close its log."""
        self.stop()
        if self._log is not None:
            with suppress(OSError):
                self._log.close()
            self._log = None


@contextmanager
def own_redis_server(tmp_dir: Path, *, appendfsync: str = "always") -> Iterator[OwnRedis]:
    """Run a private ``redis-server`` in ``tmp_dir`` for the duration of the block; always stops it."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    server: OwnRedis | None = None
    try:
        for attempt in range(3):  # the free port may be taken between the probe and the start
            server = OwnRedis(binary, tmp_dir, free_port(), appendfsync)
            try:
                server.start()
                break
            except RuntimeError:
                server.close()
                if attempt == 2:
                    raise
        assert server is not None
        yield server
    finally:
        if server is not None:
            server.close()


@contextmanager
def own_redis_cluster(tmp_dir: Path, *, nodes: int = 3) -> Iterator[str]:
    """A private Redis Cluster of ``nodes`` primaries (no replicas) on free loopback ports; yields its
    ``redis+cluster://`` URL. Slots are spread with ``redis-cli --cluster create``; always torn down."""
    binary, cli = redis_server_binary(), shutil.which("redis-cli")
    if binary is None or cli is None:
        raise RuntimeError("redis-server and redis-cli are needed for a cluster")
    servers: list[OwnRedis] = []
    try:
        for number in range(nodes):
            node_dir = tmp_dir / f"node{number}"
            node_dir.mkdir(parents=True, exist_ok=True)
            server = OwnRedis(binary, node_dir, _free_cluster_port(), "always",
                              ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"))
            server.start()
            servers.append(server)
        addresses = [f"127.0.0.1:{s.port}" for s in servers]
        subprocess.run([cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=30)
        _wait_cluster_ok(servers)
        yield f"redis+cluster://127.0.0.1:{servers[0].port}"
    finally:
        for server in servers:
            server.close()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_cluster_port() -> int:
    """A free port P <= 55535 whose cluster bus port P + 10000 is free too (Redis Cluster needs both)."""
    for _ in range(200):
        port = random.randint(20000, 55535)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def _wait_cluster_ok(servers: list[OwnRedis]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    for server in servers:
        client = redis.Redis(port=server.port, socket_timeout=1)
        try:
            while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the Redis cluster did not reach cluster_state:ok")
                time.sleep(0.05)
        finally:
            client.close()


def purge_prefix(url: str) -> None:
    """Delete the keys under the prefix of a ``redis://...?prefix=`` store URL (nothing else)."""
    from chopmark.store import RedisStore, open_store

    store = open_store(url)
    assert isinstance(store, RedisStore)
    try:
        store.purge()
    finally:
        store.close()
