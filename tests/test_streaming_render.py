"""A long stream renders as it plays: its plan holds the first slice of the body and
renders the rest when the player asks, with the same bytes a whole rendering has."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from helpers import closing, openai_client, raw_chunks
from mockserver import MockServer
from mockserver.cli import main
from mockserver.render import APIS, plan_response
from mockserver.render.api import sample
from mockserver.render.plan import FIRST_SLICE, SLICE
from mockserver.scenario import load_text

LONG = f"""
name: long
timing: {{first: 5ms, interval: 0ms}}
split: 1
stream:
  - text: "{"ab" * 2000}"
  - tool_call: {{name: look, arguments: {{q: x}}, pieces: 3}}
  - text: "done"
"""
STREAMING_APIS = sorted(name for name, api in APIS.items() if api.sample_request("m", "hi", stream=True))


@pytest.mark.parametrize("api_name", [n for n in STREAMING_APIS if n != "embeddings"])
def test_a_long_plan_holds_its_first_slice_and_renders_the_rest_to_the_same_bytes(api_name: str) -> None:
    (scenario,) = load_text(LONG, "long.yaml")
    api = APIS[api_name]
    request = sample(api, "m", "hi", stream=True)
    whole = plan_response(api, scenario.responses[0], request, scenario="long", number=3, seed=1)
    sliced = plan_response(
        api, scenario.responses[0], request, scenario="long", number=3, seed=1, slice_over=SLICE
    )
    assert whole.rest is None and sliced.rest is not None
    assert sliced.events_total == FIRST_SLICE < whole.events_total  # only the first slice, so far
    assert sliced.body == whole.body[: len(sliced.body)]
    rendered = sliced.whole()
    assert rendered.body == whole.body
    assert sum(c.events for c in rendered.cuts) == whole.events_total
    # the moments (time, end) agree where the slices did not cut one in two
    assert {c.end for c in whole.cuts} <= {c.end for c in rendered.cuts}


def test_a_short_plan_is_whole() -> None:
    (scenario,) = load_text('name: short\nstream:\n  - text: "a b c"\n', "short.yaml")
    api = APIS["chat"]
    plan = plan_response(
        api,
        scenario.responses[0],
        sample(api, "m", "hi", stream=True),
        scenario="short",
        number=0,
        seed=0,
        slice_over=SLICE,
    )
    assert plan.rest is None and plan.whole() is plan


def test_the_server_sends_what_show_prints_for_a_long_stream(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """The server re-stamps a long stream's slices one by one (request 1, then 2): still
    exactly what `show --raw` prints for those requests."""
    path = tmp_path / "long.yaml"
    path.write_text(LONG)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}], "stream": True}
    with MockServer([str(path)], time_scale=0) as server:
        sent = [b"".join(raw_chunks(server.port, "/s/long/v1/chat/completions", body)[2]) for _ in range(2)]
    assert main(["show", "long", str(path), "--raw"]) == 0
    shown = capsysbinary.readouterr().out
    assert sent[0] == shown and shown.count(b"data: ") > 4000
    assert sent[1] != sent[0] and len(sent[1]) == len(sent[0])  # its own ids, the same shape


def test_a_client_that_leaves_early_leaves_the_rest_unrendered(tmp_path: Path) -> None:
    """200,000 deltas a millisecond apart: the client reads three and leaves. What was
    never due was never rendered (a whole rendering would have made all of them)."""
    path = tmp_path / "endless.yaml"
    path.write_text(
        f'name: endless\ntiming: {{interval: 1ms}}\nsplit: 1\nstream:\n  - text: "{"x" * 200_000}"\n'
    )
    with MockServer([str(path)]) as server:
        client = openai_client(server, "endless", max_retries=0)
        with closing(client):
            stream = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            seen = [chunk.choices[0].delta.content for chunk, _ in zip(stream, range(3), strict=False)]
            stream.close()
        assert seen[1:] == ["x", "x"]
        deadline = time.monotonic() + 10
        while not server.requests or server.requests[-1].left_at is None:
            assert time.monotonic() < deadline, "the server never saw the client leave"
            time.sleep(0.02)
        entry = server.requests[-1]
        assert entry.events_sent < 5_000
        assert entry.events_total < 10_000  # 200,002 had the plan been rendered whole
        with httpx.Client(base_url=server.url) as http:
            assert http.get("/_mock/health").status_code == 200


@pytest.mark.parametrize("api_name", [n for n in STREAMING_APIS if n != "embeddings"])
def test_a_text_run_renders_as_the_same_pieces_written_as_steps(api_name: str) -> None:
    """A split text is kept as one run and unfolds as it is read (Chat and Completions
    without an item per piece): the bytes are those of the same pieces as steps."""
    pieces = ["Hel", 'lo"', "wé ", "wor", "ld"]  # a quote to escape, a character beyond ASCII
    run, steps = load_text(
        "scenarios:\n"
        "  - name: run\n"
        "    timing: {first: 5ms, interval: 3ms}\n"
        "    stream:\n"
        f"      - text: '{''.join(pieces)}'\n"
        "        split: 3\n"
        "  - name: steps\n"
        "    timing: {first: 5ms, interval: 3ms}\n"
        "    stream:\n" + "".join(f"      - text: '{p}'\n" for p in pieces),
        "pieces.yaml",
    )
    api = APIS[api_name]
    request = sample(api, "m", "hi", stream=True)
    as_run, as_steps = (
        plan_response(api, s.responses[0], request, scenario="same", number=0, seed=0) for s in (run, steps)
    )
    assert as_run.body == as_steps.body and as_run.cuts == as_steps.cuts


def test_a_long_stream_then_a_disconnect_and_what_the_journal_keeps(tmp_path: Path) -> None:
    """The ending comes after the last slice; the journal keeps the head of what went out
    across slices, as of a stream rendered whole."""
    path = tmp_path / "cut.yaml"
    path.write_text(f'name: cut\nsplit: 1\nstream:\n  - text: "{"y" * 3000}"\n  - disconnect\n')
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with MockServer([str(path)], time_scale=0) as server:
        status, _, chunks, terminated = raw_chunks(server.port, "/s/cut/v1/chat/completions", body)
        deadline = time.monotonic() + 10
        while not server.requests[-1].finished:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        entry = server.requests[-1]
    sent = b"".join(chunks)
    assert status == 200 and not terminated  # cut: no zero-length chunk
    assert sent.count(b'"content":"y"') == 3000 and b"[DONE]" not in sent
    assert entry.ending == "disconnect" and entry.events_sent == entry.events_total
    assert entry.sent is not None and entry.sent.encode() == sent[:8192]
