"""Serves a Sandbox over real HTTP/1.1 (keep-alive) on a loopback port, one thread per connection."""

from __future__ import annotations

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from reconcile.sandbox.core import Faults, Request, Response, Sandbox
from reconcile.sandbox.credentials import banner


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], sandbox: Sandbox, verbose: bool) -> None:
        self.sandbox = sandbox
        self.verbose = verbose
        super().__init__(addr, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _read_body(self) -> bytes | None:
        """The request body by Content-Length (or chunked); None if the framing is broken."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(1024).split(b";")[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        raw = self.headers.get("Content-Length") or "0"
        if not raw.strip().isdigit():
            return None
        length = int(raw)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._send(Response.json(400, {"error": "bad request framing"}))
            return
        req = Request.build(self.command, self.path, list(self.headers.items()), body)
        resp = self.server.sandbox.dispatch(req)
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(resp)

    def _send(self, resp: Response) -> None:
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body leave in one write: two small writes meet the client's delayed
        # ACK and Nagle, which costs ~40 ms a response on loopback.
        pending: list[bytes] = getattr(self, "_headers_buffer")  # noqa: B009 - the stdlib's buffer
        pending.append(b"\r\n")
        if resp.body and self.command != "HEAD":
            pending.append(resp.body)
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        if self.server.verbose:
            sys.stderr.write("sandbox: " + format % args + "\n")


class RunningSandbox:
    """A sandbox served from a background thread; stop() (or leaving `with`) shuts it down."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        sandbox: Sandbox | None = None,
        verbose: bool = False,
    ) -> None:
        self.sandbox = sandbox or Sandbox()
        self._server = _Server((host, port), self.sandbox, verbose)
        real_host, real_port = self._server.server_address[:2]
        self.url = f"http://{real_host!s}:{real_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns at once
            name="reconcile-sandbox",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start(
    host: str = "127.0.0.1", port: int = 0, sandbox: Sandbox | None = None, verbose: bool = False
) -> RunningSandbox:
    return RunningSandbox(host, port, sandbox, verbose)


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    faults: Faults | None = None,
    verbose: bool = False,
    sandbox: Sandbox | None = None,
) -> None:
    """Serve until interrupted, printing the URLs and the sandbox credentials."""
    server = _Server((host, port), sandbox or Sandbox(faults), verbose)
    print(banner(f"http://{host}:{server.server_address[1]}"), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
