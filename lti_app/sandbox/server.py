"""Serving a WSGI app over real HTTP from a background thread (threaded werkzeug server).

Used by the test fixtures (tool and platform) and by `gradeloop run` for the sandbox LMS.
"""
from __future__ import annotations

import logging
import threading

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        logging.getLogger("sandbox.http").debug("%s %s %s", self.command, self.path, code)


class ServerThread:
    """`start()` binds (port 0: a free one) and serves until `stop()`."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, url_host: str | None = None,
                 quiet: bool = True):
        self.app = app
        try:
            self._server = make_server(host, port, app, threaded=True,
                                       request_handler=_QuietHandler if quiet else WSGIRequestHandler)
        except SystemExit as exc:
            # werkzeug prints "Address already in use" and calls sys.exit(1); callers want an error.
            raise OSError(f"cannot listen on {host}:{port} (address already in use?)") from exc
        self.port = self._server.server_port
        self.url = f"http://{url_host or host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"http-{self.port}", daemon=True)
        self._stopped = False

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        stop = getattr(self.app, "extensions", {}).get("sandbox_stop")
        if stop is not None:
            stop.set()
        if self._thread.is_alive():       # shutdown() would wait forever on a server never started
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
