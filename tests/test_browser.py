"""A web page on another port streams from the mock with `fetch`, in headless
Chromium (Debian's `chromium`; `.ci/run` installs it). CORS lets the API endpoints
through and keeps the admin API out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiohttp import web
from browser import CHROMIUM, chromium

from helpers import ServeFactory
from mockserver.runner import BackgroundServer

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


def test_a_page_on_another_port_streams_through_fetch(serve: ServeFactory, page_server: str) -> None:
    mock = serve("""
        name: browser
        timing: {interval: 20ms}
        split: words
        stream:
          - text: "Streamed into a browser, word by word."
    """)
    # the page may still be loading: wait for its script to have started the fetch
    waited = (
        "(async () => { for (let i = 0; i < 400 && !window.done; i++) "
        "await new Promise(r => setTimeout(r, 25)); return await window.done; })()"
    )

    async def drive() -> object:
        async with chromium() as page:
            await page.open(f"{page_server}/?mock={mock.url}")
            return await page.evaluate(waited)

    result = asyncio.run(drive())
    assert isinstance(result, dict)
    assert result["text"] == "Streamed into a browser, word by word."
    assert result["reads"] > 1  # it arrived as a stream, piece by piece
    assert str(result["requestId"]).startswith("req_")  # an exposed header
    assert result["admin"] == "blocked"
    preflight = mock.requests  # the preflight never reaches the journal; the POST does
    assert [e.path for e in preflight] == ["/s/browser/v1/chat/completions"]
