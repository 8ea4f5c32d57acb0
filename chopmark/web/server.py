"""Gunicorn running an application factory (``chopmark serve`` passes :func:`chopmark.app.create_app`): one app
per worker, built after the fork."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from chopmark.web.settings import Settings

AppFactory = Callable[[Settings], Any]


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
            "bind": f"{host}:{self.settings.port}", "workers": self.settings.workers, "worker_class": "sync",
            "preload_app": False, "loglevel": self.settings.log_level, "accesslog": None, "errorlog": "-",
            "timeout": 30, "graceful_timeout": 10, "limit_request_line": 8190, "proc_name": "chopmark",
            "control_socket_disable": True,
        }
        if self.settings.tls_cert_file:
            config.update(certfile=self.settings.tls_cert_file, keyfile=self.settings.tls_key_file)
        known = self.cfg.settings
        for key, value in config.items():
            if key in known:  # control_socket_disable exists from gunicorn 24 on
                self.cfg.set(key, value)

    def load(self) -> Any:
        """Called in each worker: build the application."""
        return self.factory(self.settings)


def serve(settings: Settings, factory: AppFactory) -> None:
    """Run ``factory(settings)`` in the foreground until stopped (SIGTERM/SIGINT)."""
    ChopmarkServer(settings, factory).run()
