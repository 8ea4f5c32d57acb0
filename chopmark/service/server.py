"""``chopmark serve``: gunicorn running :func:`chopmark.app.create_app` (one app per worker, after fork)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from chopmark.service.settings import Settings


class ChopmarkServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each build their own app (own store connections)."""

    def __init__(self, settings: Settings) -> None:
        """Serve with ``settings`` (bind address, workers, log level)."""
        self.settings = settings
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
        from chopmark.app import create_app

        return create_app(self.settings)


def serve(settings: Settings) -> None:
    """Run the server in the foreground until stopped (SIGTERM/SIGINT)."""
    ChopmarkServer(settings).run()
