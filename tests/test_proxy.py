"""A proxy the environment names (HTTP_PROXY and friends, as corporate networks set them)
carries every call to the vendor, reads and writes alike."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Project, Sandbox, cio_manifest


class _Forwarder(http.server.BaseHTTPRequestHandler):
    """A plain forwarding proxy: requests arrive with an absolute URL and are sent on."""

    seen: list[str]

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "proxy-connection")
        }
        upstream = httpx.request(
            self.command, self.path, content=body, headers=headers, timeout=30, trust_env=False
        )
        self.seen.append(f"{self.command} {httpx.URL(self.path).path}")
        self.send_response(upstream.status_code)
        for k, v in upstream.headers.items():
            if k.lower() not in (
                "transfer-encoding",
                "content-encoding",
                "content-length",
                "connection",
            ):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Forwarder,), {"seen": seen, "protocol_version": "HTTP/1.1"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_proxy_named_by_the_environment_carries_reads_and_writes(
    project: Project, sandbox: Sandbox, proxy: tuple[str, list[str]]
) -> None:
    url, seen = proxy
    project.write_config()
    project.manifest(cio_manifest(3))
    env = {"HTTP_PROXY": url, "http_proxy": url, "NO_PROXY": "", "no_proxy": ""}
    result = project.run("apply", "--auto-approve", env=env)
    assert result.code == 0, result.text
    assert sorted(sandbox.cio_contacts()) == ["AGENT-00000", "AGENT-00001", "AGENT-00002"]
    writes = [s for s in seen if s.startswith("PUT ")]
    reads = [s for s in seen if s.startswith("GET ")]
    assert len(writes) == 3 and reads, seen
    assert all(s.split(" ")[1].startswith("/ciopulse/api/v5/") for s in seen), seen
