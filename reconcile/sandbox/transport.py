"""The sandbox inside the test process: an httpx transport, no socket."""

from __future__ import annotations

import httpx

from reconcile.sandbox.core import Request, Sandbox


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        req = Request.build(request.method, target, list(request.headers.items()), request.read())
        resp = self.sandbox.dispatch(req)
        if resp.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            resp.status, headers=dict(resp.headers), content=resp.body, request=request
        )
