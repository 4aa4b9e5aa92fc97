"""Forwarding a request to the upstream and recording its answer.

The answer streams back to the client as it arrives: each read from the upstream is
written to the client at once, as it came (the same chunk boundaries), and the next
read waits until the client has taken it (back-pressure). Meanwhile the bytes are cut
into frames, the API's reader turns them into steps, and the steps go to a spool
file, so memory stays bounded for a stream of any length.

The stream is read by its own task: when the client leaves, the upstream's answer is
still read to its end and recorded whole (a replay then plays it all again)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp import web

from ..render.api import Api
from ..render.errors import ApiError
from ..render.frames import Frames
from ..render.reading import Frame, WireReader
from ..render.request import ApiRequest
from ..scenario import Response, Scenario
from ..scenario.template import escape_template
from ..server.player import Outcome, reset_connection
from .recordings import Recordings
from .redact import Redactor
from .steps import StepWriter
from .yaml_out import flow, seconds

log = logging.getLogger("mockserver.record")

# never sent on (they belong to one connection, or the client's address)
_HOP_BY_HOP = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
        "accept-encoding",
        "trailer",
    }
)
# answer headers kept in a recording: waits, rate limits, request ids (never credentials)
_SAFE_HEADER = re.compile(
    r"retry-after(-ms)?|x-ratelimit-.*|ratelimit-.*|anthropic-ratelimit-.*|x-request-id|request-id"
    r"|x-amzn-requestid|apim-request-id|openai-processing-ms"
)
_NOT_PASSED_BACK = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}
)
_STREAM_TYPES = ("text/event-stream", "application/x-ndjson", "application/vnd.amazon.eventstream")
_LINE_ENDINGS = {"\r\n": "crlf", "\r": "cr"}
CLOSE_WAIT = 10.0  # seconds a stopping recorder waits for answers still coming


class Recorder:
    """What `record` adds to a server: the upstream, and the recordings."""

    def __init__(
        self, upstream: str, recordings: Recordings, *, exact: bool = False, stall_after: float = 30.0
    ):
        self.upstream = upstream
        self.recordings = recordings
        self.exact = exact
        self.stall_after = stall_after
        self.session: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task[Any]] = set()  # answers still being read after their client left
        # told each answer recorded for an API that keeps history (Responses), so a
        # later request can continue from it (previous_response_id) as on replay
        self.keep: Callable[[Api, ApiRequest, Scenario, Response], None] | None = None

    def url_for(self, path: str, query: str = "") -> str:
        """The upstream URL of a request path and query. An upstream given with the path
        its clients use (`https://api.openai.com/v1`) is not repeated (`/v1/v1/...`);
        its own query (`?key=...`) is sent with every request."""
        parts = urlsplit(self.upstream)
        base = parts.path.rstrip("/")
        if not base or not (path == base or path.startswith(base + "/")):
            path = base + path
        joined = "&".join(q for q in (parts.query, query) if q)
        return urlunsplit((parts.scheme, parts.netloc, path, joined, ""))

    @property
    def redactor(self) -> Redactor | None:
        return self.recordings.redactor

    async def close(self) -> None:
        """Let the answers still being read finish and be written (for at most
        CLOSE_WAIT seconds, then they are cut), then let go of the upstream."""
        if self.tasks:
            _, late = await asyncio.wait(set(self.tasks), timeout=CLOSE_WAIT)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self.session is not None:
            await self.session.close()
        self.recordings.close()

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            # no total timeout: a stream may run for minutes; a silent one is a stall (stall_after)
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=10.0)
            self.session = aiohttp.ClientSession(timeout=timeout, auto_decompress=True)
        return self.session

    async def forward(
        self, request: web.Request, api: Api, parsed: ApiRequest, outcome: Outcome
    ) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        started = loop.time()
        body = await request.read()
        url = self.url_for(parsed.path, request.query_string)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers = {k: v for k, v in headers.items() if not k.lower().startswith("x-mock-")}
        try:
            upstream = await self._session().request(
                request.method, url, data=body, headers=headers, allow_redirects=False
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            message = f"mockserver (record): the upstream {self.upstream} could not be reached: {exc}"
            outcome.status = 502
            error = ApiError(502, message, "api_error", "upstream_unreachable", None)
            return web.json_response(api.error_body(error), status=502)
        headers_at = loop.time()
        outcome.status = upstream.status
        answer = Answer(self, api, parsed, request.method, upstream, started, headers_at)
        if not upstream.content_type.startswith(_STREAM_TYPES):
            return await answer.whole(outcome)
        task = asyncio.ensure_future(answer.stream(request, outcome))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return await asyncio.shield(task)


class Answer:
    """One upstream answer: passed to the client, recorded."""

    def __init__(
        self,
        recorder: Recorder,
        api: Api,
        request: ApiRequest,
        method: str,
        upstream: aiohttp.ClientResponse,
        started: float,
        headers_at: float,
    ) -> None:
        self.recorder = recorder
        self.api = api
        self.request = request
        self.method = method
        self.upstream = upstream
        self.headers_at = headers_at  # the replay's clock starts here, as the player's does
        self.headers_delay = headers_at - started
        self.head: dict[str, Any] = {}
        if upstream.status != 200:
            self.head["status"] = upstream.status
        kept = {k.lower(): v for k, v in upstream.headers.items() if _SAFE_HEADER.fullmatch(k.lower())}
        if kept:
            self.head["headers"] = {k: escape_template(v) for k, v in kept.items()}
        self.passed = {k: v for k, v in upstream.headers.items() if k.lower() not in _NOT_PASSED_BACK}

    async def whole(self, outcome: Outcome) -> web.StreamResponse:
        """A JSON (or any other whole) answer: read, passed on, recorded."""
        try:
            data = await self.upstream.read()
        except (aiohttp.ClientError, OSError) as exc:
            self.upstream.release()
            outcome.status = 502
            error = ApiError(
                502, f"mockserver (record): the upstream's answer broke off: {exc}", "api_error", None, None
            )
            return web.json_response(self.api.error_body(error), status=502)
        self.headers_delay += asyncio.get_running_loop().time() - self.headers_at
        outcome.bytes_sent = len(data)
        self._record_whole(data)
        return web.Response(status=self.upstream.status, body=data, headers=self.passed)

    def _record_whole(self, data: bytes) -> None:
        try:
            value: Any = json.loads(data)
        except ValueError:
            value = data.decode("utf-8", "replace")
        reader = None
        steps_path: Path | None = None
        if self.upstream.status < 400 and not self.recorder.exact and not isinstance(value, str):
            steps_path, spool = self.recorder.recordings.new_steps()
            with spool:
                writer = StepWriter(spool, self.recorder.redactor)
                reader = self.api.reader(self.request, writer)
                if reader is not None:
                    reader.body(value)
                    writer.close()
                    self.head.update(_pins(writer))
            if reader is None:
                steps_path.unlink()
                steps_path = None
        if reader is None:
            self.head["body"] = _escaped(value, self.recorder.redactor)
        self.head["transport"] = {"headers_delay": seconds(self.headers_delay)}
        self._save(steps_path)

    async def stream(self, request: web.Request, outcome: Outcome) -> web.StreamResponse:
        """A stream: each read passed on as it came, and recorded."""
        response = web.StreamResponse(status=self.upstream.status, headers=self.passed)
        response.enable_chunked_encoding()
        client = True
        try:
            await response.prepare(request)
            outcome.headers_sent = True
        except ConnectionError:
            client = False
        steps_path, spool = self.recorder.recordings.new_steps()
        frames = self.api.frames()
        with spool:
            writer = StepWriter(spool, self.recorder.redactor)
            reader = None if self.recorder.exact else self.api.reader(self.request, writer)
            ending, client = await self._pump(response, frames, writer, reader, client, outcome)
            for frame in frames.end():
                self._frame(frame, writer, reader, frames)
            done = True
            if ending == "eof":
                finished = reader.ending() if reader is not None else "cut"
                if finished == "cut":
                    writer.stop("end")  # the body ended cleanly, without its API's end
                done = finished != "no_done"
            else:
                writer.stop(ending)
            writer.close()
        self.head.update(_pins(writer))
        ending_of = frames.line_ending
        transport: dict[str, Any] = {"headers_delay": seconds(self.headers_delay)}
        if ending_of in _LINE_ENDINGS:
            transport["line_ending"] = _LINE_ENDINGS[ending_of]
        self.head["transport"] = transport
        if not done:
            self.head["done"] = False
        self._save(steps_path)
        if client:
            await _end(request, response, ending, outcome)
        return response

    async def _pump(
        self,
        response: web.StreamResponse,
        frames: Frames,
        writer: StepWriter,
        reader: WireReader | None,
        client: bool,
        outcome: Outcome,
    ) -> tuple[str, bool]:
        """Read the upstream to its end; (how it ended, whether the client is still there)."""
        loop = asyncio.get_running_loop()
        content = self.upstream.content
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(content.readany(), self.recorder.stall_after)
                except TimeoutError:
                    return "stall", client  # at the last byte: the stall began there
                except aiohttp.ClientPayloadError as exc:
                    writer.now = loop.time() - self.headers_at
                    return ("reset" if _was_reset(exc) else "disconnect"), client
                except (aiohttp.ClientError, ConnectionError):
                    writer.now = loop.time() - self.headers_at
                    return "reset", client
                writer.now = loop.time() - self.headers_at
                if not chunk:
                    return "eof", client
                if client:
                    try:
                        await response.write(chunk)
                        outcome.bytes_sent += len(chunk)
                    except ConnectionError:
                        client = False
                        outcome.left_early = True
                for frame in frames.feed(chunk):
                    outcome.events_sent += 1
                    self._frame(frame, writer, reader, frames)
        finally:
            self.upstream.release()

    def _frame(self, frame: Frame, writer: StepWriter, reader: WireReader | None, frames: Frames) -> None:
        if reader is not None:
            reader.frame(frame)
        elif frame.line:
            writer.raw((frame.data or "") + (frames.line_ending or "\n"))
        elif frame.comment is not None:
            writer.comment(frame.comment)
        else:
            writer.event(frame)

    def _save(self, steps: Path | None) -> None:
        head = [f"{key}: {flow(value)}\n" for key, value in self.head.items()] or ["status: 200\n"]
        recordings = self.recorder.recordings
        try:
            path = recordings.add(self.request, head, steps, self.method)
            if self.api.keeps_history and self.recorder.keep is not None:
                self.recorder.keep(self.api, self.request, *recordings.latest(self.request))
        except Exception:  # the client has its answer; the recording is what failed: say so
            log.exception("mockserver could not record %s %s", self.method, self.request.path)
            return
        log.info("recorded %s %s → %s", self.method, self.request.path, path)


def _pins(writer: StepWriter) -> dict[str, Any]:
    pinned = dict(writer.pinned)
    if "model" in pinned:
        pinned["model"] = escape_template(pinned["model"])  # a template in the language
    return pinned


def _escaped(value: Any, redactor: Redactor | None) -> Any:
    """A body as the language keeps it exactly: strings redacted, braces escaped."""
    if isinstance(value, str):
        return escape_template(redactor.text(value) if redactor is not None else value)
    if isinstance(value, dict):
        return {key: _escaped(item, redactor) for key, item in value.items()}
    if isinstance(value, list):
        return [_escaped(item, redactor) for item in value]
    return value


def _was_reset(exc: BaseException) -> bool:
    """Whether a broken body was a reset (RST), not a close (FIN). aiohttp keeps the
    reset only in the message of the error it raises for the unfinished body."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, ConnectionResetError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "ConnectionResetError" in str(exc)


async def _end(request: web.Request, response: web.StreamResponse, ending: str, outcome: Outcome) -> None:
    """End the client's body the way the upstream's ended."""
    transport = request.transport
    if ending == "eof":
        try:
            await response.write_eof()
        except ConnectionError:
            outcome.left_early = True
    elif transport is not None and ending == "reset":
        await reset_connection(transport)
    elif transport is not None:
        transport.close()  # a drop or a stall: what was written, then FIN, no chunked terminator
