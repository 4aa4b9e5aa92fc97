"""The console (`/_mock/console`), driven in headless Chromium over the DevTools
protocol as a person would use it: the live feed, a request's timeline, chaos from
the page, the one-shot fault, the token; and its admin routes over plain HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import CHROMIUM, Page, chromium

from mockserver import MockServer
from mockserver.scenario import load_text

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "console.png"
STORY = """
name: story
match: {text: "(?i)story"}
timing: {interval: 20ms}
split: words
stream:
  - text: "Once upon a time a mock streamed a story, word by word."
---
name: quick
match: {text: "(?i)quick"}
stream: [{text: "Quick."}]
"""
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(load_text(STORY, "<console>")) as running:
        yield running


def ask(server: MockServer, prompt: str, session: str | None = None) -> int:
    """A streamed chat, read to its end (or until it breaks); its HTTP status."""
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": prompt}]}
    headers = {"x-mock-session": session} if session else {}
    try:
        with httpx.stream(
            "POST", server.openai_url + "/chat/completions", json=body, headers=headers, timeout=10
        ) as r:
            for _ in r.iter_raw():
                pass
            return r.status_code
    except httpx.HTTPError:
        return 0


async def in_thread(server: MockServer, prompt: str) -> int:
    return await asyncio.to_thread(ask, server, prompt)


async def click(page: Page, selector: str) -> None:
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


async def rows(page: Page) -> int:
    return int(await page.evaluate("document.querySelectorAll('#rows tr').length"))


@needs_chromium
def test_the_console_live(server: MockServer, tmp_path: Path) -> None:
    async def drive() -> dict[str, Any]:
        async with chromium() as page:
            await page.open(server.console_url)
            await page.wait_for("!document.getElementById('app').hidden")
            await page.wait_for("document.getElementById('status').textContent === 'live'")

            # a row within a second of the client's request (it appears when the request arrives)
            sent = time.monotonic()
            asking = asyncio.ensure_future(in_thread(server, "tell me a story"))
            await page.wait_for("document.querySelectorAll('#rows tr').length === 1", timeout=5)
            row_after = time.monotonic() - sent
            assert await asking == 200
            await page.wait_for("document.querySelector('#rows tr').cells[4].textContent === '200'")

            # the next request gets `disconnect`, armed from the page; its timeline shows it
            await page.evaluate("document.getElementById('next-fault').value = 'disconnect'")
            await click(page, "#next-apply")
            await page.wait_for(
                "document.getElementById('chaos-state').textContent.includes('next request gets disconnect')"
            )
            assert await in_thread(server, "tell me a story") in (0, 200)  # cut mid-body
            await page.wait_for(
                "[...document.querySelectorAll('#rows tr')].some(r => r.dataset.fault === 'disconnect' && !r.classList.contains('open'))"
            )
            await click(page, "#rows tr[data-fault='disconnect']")
            await page.wait_for("!!document.querySelector('#timeline .fault-marker')")
            drawn = await page.evaluate(
                "({writes: document.querySelectorAll('#timeline .write').length,"
                " fault: document.querySelector('#timeline text.fault-marker').textContent,"
                " faultX: +document.querySelector('#timeline line.fault-marker').getAttribute('x1'),"
                " lastX: Math.max(...[...document.querySelectorAll('#timeline .write circle:nth-of-type(2)')].map(c => +c.getAttribute('cx'))),"
                " sent: document.getElementById('detail-sent').textContent})"
            )

            # rate 1 and only 503, set from the page: the next request gets 503
            await page.evaluate(
                "document.getElementById('rate').value = 1;"
                "for (const box of document.querySelectorAll('#faults input')) box.checked = box.id === 'fault-503';"
            )
            await click(page, "#apply-chaos")
            await page.wait_for("document.getElementById('chaos-state').textContent.includes('injected')")
            await asyncio.sleep(0.2)
            status_with_rate = await in_thread(server, "quick one")
            await page.evaluate("document.getElementById('rate').value = 0")
            await click(page, "#apply-chaos")
            await asyncio.sleep(0.2)

            # "the next request gets 429", once
            await page.evaluate("document.getElementById('next-fault').value = '429'")
            await click(page, "#next-apply")
            await page.wait_for(
                "document.getElementById('chaos-state').textContent.includes('next request gets 429')"
            )
            once = [await in_thread(server, "quick one"), await in_thread(server, "quick one")]

            await page.wait_for("document.querySelectorAll('#rows tr').length === 5")
            # the verdicts: each of these requests opened its own connection
            await page.wait_for(
                "!!document.querySelector('#verdict-list .verdict.fail[data-name=keepalive]')"
            )
            await click(page, "#rows tr:last-child")  # the first request, a whole story
            await page.wait_for("document.querySelectorAll('#timeline .write').length > 3")
            await page.screenshot(tmp_path / "console.png")
            return {
                "row_after": row_after,
                "drawn": drawn,
                "status_with_rate": status_with_rate,
                "once": once,
                "errors": page.errors(),
                "requested": page.requested(),
            }

    seen = asyncio.run(drive())
    assert seen["row_after"] < 1.0
    drawn = seen["drawn"]
    assert drawn["fault"] == "fault: disconnect"
    assert drawn["writes"] >= 1 and abs(drawn["faultX"] - drawn["lastX"]) < 0.01  # the stream ended there
    assert "data: {" in drawn["sent"]
    assert seen["status_with_rate"] == 503 and seen["once"] == [429, 200]
    faults = [e.fault for e in server.requests]
    assert faults == [None, "disconnect", "503", "429", None]  # the journal agrees
    assert seen["errors"] == []
    assert seen["requested"] and all(url.startswith(server.url + "/") for url in seen["requested"])
    assert (tmp_path / "console.png").stat().st_size > 10_000
    if os.environ.get("MOCKSERVER_SCREENSHOT"):  # to refresh README's picture
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.write_bytes((tmp_path / "console.png").read_bytes())


@needs_chromium
def test_the_console_asks_for_the_token_and_shows_nothing_without_it() -> None:
    with MockServer(load_text(STORY, "<console>"), admin_token="s3cret-token") as server:
        ask(server, "quick one")

        async def drive() -> dict[str, Any]:
            async with chromium() as page:
                await page.open(server.console_url)
                await page.wait_for("!document.getElementById('token-form').hidden")
                before = await page.evaluate(
                    "({app: document.getElementById('app').hidden, rows: document.querySelectorAll('#rows tr').length,"
                    " text: document.body.innerText})"
                )
                await page.evaluate("document.getElementById('token').value = 's3cret-token'")
                await page.evaluate("document.getElementById('token-form').requestSubmit()")
                await page.wait_for("document.querySelectorAll('#rows tr').length === 1")
                kept = await page.evaluate("sessionStorage.getItem('mockserver-token')")
                return {
                    "before": before,
                    "kept": kept,
                    "errors": [e for e in page.errors() if "401" not in json.dumps(e)],
                }

        seen = asyncio.run(drive())
    assert seen["before"]["app"] is True and seen["before"]["rows"] == 0
    assert "quick" not in seen["before"]["text"].lower()
    assert seen["kept"] == "s3cret-token"
    assert seen["errors"] == []


@needs_chromium
def test_the_page_keeps_the_last_thousand_rows() -> None:
    with MockServer(load_text(STORY, "<console>"), time_scale=0) as server:

        async def drive() -> tuple[int, str]:
            async with chromium() as page:
                await page.open(server.console_url)
                await page.wait_for("document.getElementById('status').textContent === 'live'")

                def burst() -> None:
                    with httpx.Client(timeout=10) as client:
                        body = {"model": "m", "messages": [{"role": "user", "content": "quick"}]}
                        for _ in range(1100):
                            client.post(server.openai_url + "/chat/completions", json=body)

                await asyncio.to_thread(burst)
                await page.wait_for("document.querySelector('#rows tr')?.dataset.id === '1100'", timeout=20)
                await page.wait_for("document.querySelectorAll('#rows tr').length === 1000", timeout=20)
                return await rows(page), await page.evaluate(
                    "document.querySelector('#rows tr:last-child').dataset.id"
                )

        count, oldest = asyncio.run(drive())
    assert (count, oldest) == (1000, "101")


# --- the console's admin routes, over plain HTTP ---


def test_next_fault_pause_and_show_routes(server: MockServer) -> None:
    admin = server.url + "/_mock"
    assert httpx.post(admin + "/chaos/next", json={"fault": "nope"}).status_code == 400
    assert httpx.post(admin + "/chaos/next", json={"fault": "500"}).json() == {"next": "500"}
    assert httpx.get(admin + "/chaos").json()["next"] == "500"
    assert ask(server, "quick") == 500 and ask(server, "quick") == 200  # once

    assert httpx.post(admin + "/pause", json={"paused": True}).json() == {"paused": True}
    worker = threading.Thread(target=ask, args=(server, "tell me a story"))
    worker.start()
    time.sleep(0.4)
    (entry,) = [e for e in server.requests if e.scenario == "story"]
    assert entry.events_sent == 0 and not entry.finished  # held while paused
    assert httpx.post(admin + "/pause", json={"paused": False}).json() == {"paused": False}
    worker.join(timeout=10)
    (entry,) = [e for e in server.requests if e.scenario == "story"]
    assert entry.finished and entry.events_sent == entry.events_total

    detail = httpx.get(f"{admin}/requests/{entry.id}").json()
    assert len(detail["writes"]) >= 2 and all(sent >= due - 0.01 for due, sent, _ in detail["writes"])
    shown = httpx.get(admin + "/scenarios/story/show", params={"api": "gemini"}).text
    assert "story · response 1 of 1 · gemini" in shown
    page = httpx.get(admin + "/console")
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    assert httpx.get(admin + "/console/nothing.js").status_code == 404


@needs_chromium
def test_scenarios_from_the_page(server: MockServer) -> None:
    """Paste a scenario: a bad one is refused with its line; a good one is listed and
    shown on any API."""

    async def drive() -> dict[str, Any]:
        async with chromium() as page:
            await page.open(server.console_url)
            await page.wait_for("document.querySelectorAll('#scenario-list li').length === 2")
            await page.evaluate(
                "document.getElementById('new-scenario').value = 'name: pasted\\nstream:\\n  - txet: hi\\n'"
            )
            await click(page, "#add-scenario")
            refused = await page.wait_for("document.getElementById('add-errors').textContent")
            await page.evaluate(
                "document.getElementById('new-scenario').value = 'name: pasted\\nstream:\\n  - text: hi\\n'"
            )
            await click(page, "#add-scenario")
            await page.wait_for("document.querySelectorAll('#scenario-list li').length === 3")
            await page.evaluate("document.getElementById('show-api').value = 'anthropic'")
            await click(page, "#scenario-list li:last-child button")
            shown = await page.wait_for("document.getElementById('show-output').textContent")
            # the refused scenario's 400 is logged by the browser as a failed load: expected
            errors = [e for e in page.errors() if "status of 400" not in json.dumps(e)]
            return {"refused": refused, "shown": shown, "errors": errors}

    seen = asyncio.run(drive())
    assert "request body:3: stream[0]" in seen["refused"] and "txet" in seen["refused"]
    assert "pasted · response 1 of 1 · anthropic" in seen["shown"] and "event: message_start" in seen["shown"]
    assert seen["errors"] == []
    assert "pasted" in httpx.get(server.url + "/_mock/scenarios").text


def test_the_startup_line_names_the_console(tmp_path: Path) -> None:
    from hostile import serve_process

    (tmp_path / "a.yaml").write_text("stream: [{text: hi}]\n")
    with serve_process(tmp_path) as url:
        assert httpx.get(url + "/_mock/console").status_code == 200
    # serve_process read the startup line for the URL; read it again, whole
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", str(tmp_path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert re.search(r"console: http://127\.0\.0\.1:\d+/_mock/console$", line.strip()), line
