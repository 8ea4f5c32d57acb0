"""Gunicorn running an application factory (``chopmark serve`` passes :func:`chopmark.app.create_app`): one app
per worker process, built after the fork.

The workers are :class:`chopmark.web.worker.ChopmarkWorker` (gevent): one greenlet per connection, up to
``worker_connections`` per worker, with deadlines on the request head and body, so slow clients cannot take the
workers (issue 11). Several worker processes use several cores.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from chopmark.errors import ConfigurationError
from chopmark.web.settings import Settings

AppFactory = Callable[[Settings], Any]

#: Logged (INFO) by each worker once it handles signals (:mod:`chopmark.web.worker`).
READY_LINE = "Chopmark worker ready"
#: Imported by gunicorn in each worker only (gevent stays out of the master process).
WORKER_CLASS = "chopmark.web.worker.ChopmarkWorker"


def no_handshake_context(config: Any, default_factory: Any) -> Any:
    """Gunicorn's ``ssl_context`` hook: the default context, but the handshake is left to
    :meth:`chopmark.web.worker.ChopmarkWorker.handle`, which runs it under the header deadline."""
    context = default_factory()
    wrap = context.wrap_socket

    def wrap_socket(sock: Any, **kwargs: Any) -> Any:
        return wrap(sock, **{**kwargs, "do_handshake_on_connect": False})

    context.wrap_socket = wrap_socket
    return context


class ChopmarkServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each build their own app (own store connections)."""

    def __init__(self, settings: Settings, factory: AppFactory) -> None:
        """Serve ``factory(settings)`` with ``settings`` (bind address, workers, log level)."""
        self.settings = settings
        self.factory = factory
        super().__init__()

    def load_config(self) -> None:
        """Gunicorn settings from ours: bind, workers, logging, limits."""
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        config: dict[str, Any] = {
            "bind": f"{host}:{self.settings.port}", "workers": self.settings.workers, "worker_class": WORKER_CLASS,
            "worker_connections": self.settings.worker_connections, "keepalive": self.settings.header_timeout_seconds,
            "preload_app": False,
            "loglevel": self.settings.log_level, "accesslog": None, "errorlog": "-",
            "timeout": 30, "graceful_timeout": 10, "limit_request_line": 8190, "proc_name": "chopmark",
            "control_socket_disable": True,
        }
        if self.settings.tls_cert_file:
            config.update(certfile=self.settings.tls_cert_file, keyfile=self.settings.tls_key_file,
                          ssl_context=no_handshake_context)
        known = self.cfg.settings
        for key, value in config.items():
            if key in known:  # control_socket_disable exists from gunicorn 24 on
                self.cfg.set(key, value)

    def load(self) -> Any:
        """Called in each worker: build the application."""
        return self.factory(self.settings)


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`ConfigurationError` naming the port when ``host:port`` cannot be bound (already in use, or
    not allowed), so ``chopmark serve`` fails at once instead of gunicorn retrying the bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is no obstacle
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigurationError(f"port {port} on {host} is already in use; stop the other server or choose "
                                     "another port (--port, CHOPMARK_PORT, make run PORT=...)") from None
        raise ConfigurationError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None


def serve(settings: Settings, factory: AppFactory) -> None:
    """Run ``factory(settings)`` in the foreground until stopped (SIGTERM/SIGINT)."""
    ChopmarkServer(settings, factory).run()
