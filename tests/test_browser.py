"""A web page on another port streams from the mock with `fetch`, in headless
Chromium (Debian's `chromium`; `.ci/run` installs it). CORS lets the API endpoints
through and keeps the admin API out."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from helpers import ServeFactory
from mockserver.runner import BackgroundServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")

PAGE = """<!doctype html><script>
window.done = (async () => {
  const mock = new URLSearchParams(location.search).get("mock");
  const response = await fetch(mock + "/s/browser/v1/chat/completions", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer test"},
    body: JSON.stringify({model: "gpt-4o", stream: true, messages: [{role: "user", content: "hi"}]}),
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let raw = "", reads = 0;
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    reads += 1;
    raw += decoder.decode(value, {stream: true});
  }
  const text = raw.split("\\n").filter(l => l.startsWith("data: {"))
    .map(l => JSON.parse(l.slice(6)).choices[0].delta.content || "").join("");
  let admin;
  try { await fetch(mock + "/_mock/scenarios"); admin = "readable"; } catch (e) { admin = "blocked"; }
  return {text, reads, requestId: response.headers.get("x-request-id"), admin};
})();
</script>"""


@pytest.fixture
def page_server() -> Iterator[str]:
    """The page, served from another port: another origin than the mock's."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    with BackgroundServer(app) as server:
        yield server.url


async def evaluate(port: int, url: str, expression: str, timeout: float = 20.0) -> object:
    """Run `expression` in the page at `url` over the DevTools protocol, awaiting its value."""
    async with ClientSession() as session:
        deadline = time.monotonic() + timeout
        while True:
            targets = await (await session.get(f"http://127.0.0.1:{port}/json/list")).json()
            pages = [t for t in targets if t.get("type") == "page" and t.get("url", "").startswith(url)]
            if pages or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        async with session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            for attempt in range(100):  # until the page's own document is the one evaluated
                await ws.send_json(
                    {
                        "id": attempt,
                        "method": "Runtime.evaluate",
                        "params": {"expression": expression, "awaitPromise": True, "returnByValue": True},
                    }
                )
                async for message in ws:
                    reply = json.loads(message.data)
                    if reply.get("id") == attempt:
                        break
                if "error" in reply and "context" in reply["error"].get("message", ""):
                    await asyncio.sleep(0.1)  # navigation replaced the document: ask again
                    continue
                assert "result" in reply, reply
                result = reply["result"]
                assert "exceptionDetails" not in result, result
                return result["result"].get("value")
    raise AssertionError("no answer from the page")


def test_a_page_on_another_port_streams_through_fetch(serve: ServeFactory, page_server: str) -> None:
    mock = serve("""
        name: browser
        timing: {interval: 20ms}
        split: words
        stream:
          - text: "Streamed into a browser, word by word."
    """)
    profile = tempfile.mkdtemp(prefix="mockserver-chromium-")
    assert CHROMIUM is not None
    browser = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            f"{page_server}/?mock={mock.url}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not active.exists() or not active.read_text().strip():
            assert time.monotonic() < deadline and browser.poll() is None, "chromium did not start"
            time.sleep(0.1)
        port = int(active.read_text().split()[0])
        # the page may still be loading: wait for its script to have started the fetch
        waited = (
            "(async () => { for (let i = 0; i < 400 && !window.done; i++) "
            "await new Promise(r => setTimeout(r, 25)); return await window.done; })()"
        )
        result = asyncio.run(evaluate(port, page_server, waited))
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
    assert isinstance(result, dict)
    assert result["text"] == "Streamed into a browser, word by word."
    assert result["reads"] > 1  # it arrived as a stream, piece by piece
    assert str(result["requestId"]).startswith("req_")  # an exposed header
    assert result["admin"] == "blocked"
    preflight = mock.requests  # the preflight never reaches the journal; the POST does
    assert [e.path for e in preflight] == ["/s/browser/v1/chat/completions"]
