"""Recording real traffic (`mockserver record`, MockServer.record): the real SDKs
talk through the recorder to a local upstream that answers as the real APIs do
(tests/upstream.py), then to `serve` on the files with the upstream stopped."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from upstream import GAP, Upstream

from helpers import closing
from mockserver import MockServer, MockServerError
from mockserver.cli import main
from mockserver.scenario import load_scenarios


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    yield server
    server.stop()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
def recorder(upstream: Upstream, folder: Path) -> Iterator[MockServer]:
    with MockServer(upstream=upstream.url, record_to=str(folder)) as server:
        yield server
        assert server.take_failures() == []


def openai(server: MockServer | str, **options: Any) -> Any:
    from openai import OpenAI

    base = server if isinstance(server, str) else server.openai_url
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10.0)
    return closing(OpenAI(base_url=base, api_key="sk-SECRET-openai", **options))


def anthropic(server: MockServer) -> Any:
    from anthropic import Anthropic

    return closing(
        Anthropic(base_url=server.url, api_key="sk-ant-SECRET-anthropic", max_retries=0, timeout=10.0)
    )


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def chat_stream(client: Any, prompt: str, messages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the openai SDK shows of a streamed chat: text pieces, argument fragments, finish, usage."""
    seen: dict[str, Any] = {"text": [], "arguments": [], "finish": None, "usage": None, "ids": set()}
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages or user(prompt),
        stream=True,
        stream_options={"include_usage": True},
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    )
    with stream:
        for chunk in stream:
            seen["ids"].add(chunk.id)
            if chunk.usage is not None:
                seen["usage"] = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                if choice.delta.content:
                    seen["text"].append(choice.delta.content)
                for call in choice.delta.tool_calls or ():
                    if call.function and call.function.arguments:
                        seen["arguments"].append(call.function.arguments)
                if choice.finish_reason:
                    seen["finish"] = choice.finish_reason
    return seen


def timed_text(server: MockServer, prompt: str) -> list[tuple[float, str]]:
    """Each text delta of a streamed chat, with when it reached the client."""
    stream = openai(server).chat.completions.create(model="gpt-4o-mini", messages=user(prompt), stream=True)
    arrivals = []
    with stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append((time.monotonic(), chunk.choices[0].delta.content))
    return arrivals


def raw_body(base: str, path: str, body: dict[str, Any]) -> bytes:
    with httpx.Client(timeout=10.0) as client:
        answer = client.post(base + path, json=body, headers={"authorization": "Bearer sk-SECRET-raw"})
        return answer.content


def chat_body(prompt: str) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": user(prompt),
        "stream": True,
        "stream_options": {"include_usage": True},
    }


# --- through the recorder, the client gets what the upstream sent ---


@pytest.mark.parametrize("prompt", ["tell me a story", "weather in Paris", "odd framing please"])
def test_the_client_gets_the_upstreams_bytes(recorder: MockServer, upstream: Upstream, prompt: str) -> None:
    direct = raw_body(upstream.url, "/v1/chat/completions", chat_body(prompt))
    through = raw_body(recorder.url, "/v1/chat/completions", chat_body(prompt))
    assert through == direct


def test_the_openai_sdk_sees_the_same_through_the_recorder(recorder: MockServer, upstream: Upstream) -> None:
    for prompt in ("tell me a story", "weather in Paris"):
        direct = chat_stream(openai(upstream.url + "/v1"), prompt)
        through = chat_stream(openai(recorder), prompt)
        assert through == direct
    assert direct["arguments"] == ['{"ci', 'ty": "Pa', 'ris"}']
    assert direct["finish"] == "tool_calls" and direct["usage"] == (40, 18)


def test_the_anthropic_sdk_sees_the_same_through_the_recorder(recorder: MockServer) -> None:
    with anthropic(recorder).messages.stream(
        model="claude-sonnet-4-6", max_tokens=100, messages=user("hi claude")
    ) as stream:
        assert list(stream.text_stream) == ["Hello", " from", " Claude"]
        final = stream.get_final_message()
    assert final.id == "msg_01UpstreamAnthropic"
    assert (final.stop_reason, final.usage.input_tokens, final.usage.output_tokens) == ("end_turn", 21, 3)


def test_the_first_event_arrives_before_the_upstream_has_finished(recorder: MockServer) -> None:
    """No buffering: the upstream pauses GAP seconds after its first word; the client
    has that word before the pause ends."""
    arrivals = timed_text(recorder, "slow please")
    assert [text for _, text in arrivals] == ["First", " after a pause", "."]
    assert arrivals[1][0] - arrivals[0][0] >= GAP * 0.75


# --- the files ---


# what the openai SDK raises when a stream breaks off (its lines differ: README)
DROPPED = (__import__("openai").APIConnectionError, httpx.HTTPError)
SECRETS = ("SECRET", "Bearer", "sk-ant", "set-cookie", "cookie", "openai-organization")


def test_recordings_validate_and_hold_no_secret(recorder: MockServer, folder: Path) -> None:
    chat_stream(openai(recorder), "tell me a story")
    with anthropic(recorder).messages.stream(model="claude-x", max_tokens=9, messages=user("hi")) as stream:
        stream.until_done()
    with pytest.raises(Exception, match="Rate limit"):
        chat_stream(openai(recorder), "rate limit me")
    recorder.stop_recording()
    files = sorted(folder.glob("*.yaml"))
    assert len(files) == 3
    assert len(load_scenarios([folder])) == 3
    assert main(["validate", str(folder)]) == 0
    for file in files:
        text = file.read_text()
        assert text.startswith("# Recorded by mockserver on ")
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (file.name, secret)
    limited = next(f for f in files if "rate-limit" in f.name).read_text()
    assert '"retry-after": "7"' in limited and '"x-ratelimit-remaining-requests": "0"' in limited
    assert "status: 429" in limited


def test_redact_replaces_a_secret_cut_over_several_deltas(upstream: Upstream, folder: Path) -> None:
    with MockServer(upstream=upstream.url, record_to=str(folder), redact=[r"sk-live-[A-Za-z0-9]+"]) as server:
        recorded = chat_stream(openai(server), "the secret sk-live-Hidden42 please")
    assert "".join(recorded["text"]) == "Your key is sk-live-Abc123XYZ keep it safe."
    (file,) = folder.glob("*.yaml")
    text = file.read_text()
    assert "Abc123XYZ" not in text and "Hidden42" not in text and "sk-live" not in text
    assert "[redacted]" in text
    upstream.stop()
    with MockServer([folder], strict=True) as server:  # the redacted first message still matches
        replayed = chat_stream(openai(server), "the secret sk-live-Hidden42 please")
        assert server.take_misses() == []
    assert "".join(replayed["text"]) == "Your key is [redacted] keep it safe."


# --- replay with the upstream stopped ---


def test_serve_replays_what_was_recorded(recorder: MockServer, upstream: Upstream, folder: Path) -> None:
    prompts = ("tell me a story", "weather in Paris", "slow please")
    recorded = {prompt: chat_stream(openai(recorder), prompt) for prompt in prompts}
    with pytest.raises(DROPPED) as dropped_live:
        chat_stream(openai(recorder), "drop please")
    recorder.stop_recording()  # the answers still being written are finished
    upstream.stop()
    with MockServer([folder], strict=True) as server:
        for prompt in prompts:
            replayed = chat_stream(openai(server), prompt)
            assert replayed["text"] == recorded[prompt]["text"]
            assert replayed["arguments"] == recorded[prompt]["arguments"]  # the same fragments
            assert replayed["finish"] == recorded[prompt]["finish"]
            assert replayed["usage"] == recorded[prompt]["usage"]
            assert replayed["ids"] == recorded[prompt]["ids"]  # the upstream's id, pinned
        with pytest.raises(type(dropped_live.value)):
            chat_stream(openai(server), "drop please")
        assert server.take_misses() == []


def test_replay_keeps_the_timing(recorder: MockServer, upstream: Upstream, folder: Path) -> None:
    chat_stream(openai(recorder), "slow please")
    recorder.stop_recording()
    upstream.stop()
    with MockServer([folder]) as server:
        times = [at for at, _ in timed_text(server, "slow please")]
    assert times[1] - times[0] >= GAP * 0.75  # within 25 % (a slow machine only adds)


def test_a_drop_and_a_reset_are_recorded_as_such(recorder: MockServer, folder: Path) -> None:
    for prompt in ("drop please", "reset please"):
        with pytest.raises(DROPPED):
            chat_stream(openai(recorder), prompt)
    recorder.stop_recording()
    texts = {file.name: file.read_text() for file in folder.glob("*.yaml")}
    (drop,) = [t for name, t in texts.items() if "drop" in name]
    (reset,) = [t for name, t in texts.items() if "reset" in name]
    assert drop.rstrip().endswith("{disconnect: true, delay: 0.05}") or "{disconnect: true" in drop
    assert "{reset: true" in reset
    assert '"Part one"' in drop


def test_a_chat_recording_replays_on_the_anthropic_endpoint(
    recorder: MockServer, upstream: Upstream, folder: Path
) -> None:
    recorded = chat_stream(openai(recorder), "tell me a story")
    recorder.stop_recording()
    upstream.stop()
    (file,) = folder.glob("*.yaml")
    with MockServer([folder]) as server:
        client = closing(
            __import__("anthropic").Anthropic(
                base_url=server.url_for(file.stem), api_key="x", max_retries=0, timeout=10.0
            )
        )
        with client.messages.stream(
            model="claude-x", max_tokens=50, messages=user("tell me a story")
        ) as stream:
            pieces = list(stream.text_stream)
    assert pieces == recorded["text"] == ["Once", " upon", " a", " time."]


def test_a_two_turn_tool_loop_replays_both_turns_in_order(
    recorder: MockServer, upstream: Upstream, folder: Path
) -> None:
    def loop(server: MockServer) -> list[dict[str, Any]]:
        client = openai(server)
        first = chat_stream(client, "weather in Paris")
        arguments = "".join(first["arguments"])
        messages = [
            *user("weather in Paris"),
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_Upstream1a2b3c",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_Upstream1a2b3c", "content": "sunny"},
        ]
        return [first, chat_stream(client, "", messages)]

    recorded = loop(recorder)
    assert [turn["finish"] for turn in recorded] == ["tool_calls", "stop"]
    recorder.stop_recording()  # what is still being written is finished
    (file,) = folder.glob("*.yaml")
    assert file.read_text().count("- match: {turn: ") == 2
    upstream.stop()
    with MockServer([folder], strict=True) as server:
        replayed = loop(server)
        assert server.take_misses() == []
    assert replayed == recorded
    assert "".join(replayed[1]["text"]) == "It is sunny in Paris."


def test_odd_framing_survives_the_round_trip(recorder: MockServer, upstream: Upstream, folder: Path) -> None:
    """CRLF, comments, `é` split across two network writes, a `data:` over three lines."""
    recorded = chat_stream(openai(recorder), "odd framing please")
    assert "".join(recorded["text"]) == "Café au lait ready"
    recorder.stop_recording()
    (file,) = folder.glob("*.yaml")
    text = file.read_text()
    assert 'line_ending: "crlf"' in text
    assert '{comment: "connected"' in text and '{comment: "ping"' in text
    upstream.stop()
    with MockServer([folder]) as server:
        replayed = chat_stream(openai(server), "odd framing please")
        body = raw_body(server.url, "/v1/chat/completions", chat_body("odd framing please"))
    assert replayed["text"] == recorded["text"] == ["Caf", "é au lait", " ready"]
    assert body.startswith(b": connected\r\n\r\ndata: ") and b": ping\r\n\r\n" in body
    assert b"\n" not in body.replace(b"\r\n", b"")  # every line ends in CRLF, as recorded


# --- recorded answers are played before the upstream is asked ---


def test_what_was_recorded_is_served_from_the_files(upstream: Upstream, folder: Path) -> None:
    with MockServer(upstream=upstream.url, record_to=str(folder)) as server:
        first = chat_stream(openai(server), "tell me a story")
    asked = len(upstream.seen)
    with MockServer(upstream=upstream.url, record_to=str(folder)) as server:
        again = chat_stream(openai(server), "tell me a story")  # a new session: from the file
        assert len(upstream.seen) == asked
        chat_stream(openai(server), "tell me a story")  # played once: the next goes upstream
        assert len(upstream.seen) == asked + 1
    assert again["text"] == first["text"]
    (file,) = folder.glob("*.yaml")
    text = file.read_text()
    assert text.count("\n      - ") == 2  # turn 1 now has two recorded answers
    assert text.startswith("# Recorded by mockserver on ") and "\n# Extended by mockserver on " in text


def test_exact_recordings_replay_byte_for_byte(upstream: Upstream, folder: Path) -> None:
    body = chat_body("odd framing please")
    direct = raw_body(upstream.url, "/v1/chat/completions", body)
    with MockServer(upstream=upstream.url, record_to=str(folder), exact=True) as server:
        raw_body(server.url, "/v1/chat/completions", body)
    text = next(folder.glob("*.yaml")).read_text()
    assert "{event: {data: " in text and "{end: true" in text
    upstream.stop()
    with MockServer([folder]) as server:
        assert raw_body(server.url, "/v1/chat/completions", body) == direct


def test_an_unreachable_upstream_is_a_502_in_the_apis_shape(folder: Path) -> None:
    from openai import InternalServerError

    with MockServer(upstream="http://127.0.0.1:9", record_to=str(folder)) as server:
        with pytest.raises(InternalServerError, match="could not be reached"):
            chat_stream(openai(server), "hello")
    assert not folder.exists() or not list(folder.glob("*.yaml"))


def test_record_needs_an_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--port", "0"]) == 1
    assert "--upstream" in capsys.readouterr().err


def test_record_refuses_a_bad_redact_pattern(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(
        [
            "record",
            "--upstream",
            "http://127.0.0.1:9",
            "--out",
            str(tmp_path),
            "--redact",
            "(a",
            "--port",
            "0",
        ]
    )
    assert code == 1
    assert "--redact '(a'" in capsys.readouterr().err


def test_whole_answers_are_recorded_as_steps(recorder: MockServer, upstream: Upstream, folder: Path) -> None:
    answer = openai(recorder).chat.completions.create(model="gpt-4o-mini", messages=user("whole please"))
    recorder.stop_recording()
    upstream.stop()
    with MockServer([folder]) as server:
        replayed = openai(server).chat.completions.create(model="gpt-4o-mini", messages=user("whole please"))
    assert replayed.choices[0].message.content == answer.choices[0].message.content == "A whole answer."
    assert (replayed.id, replayed.created, replayed.model) == (answer.id, answer.created, answer.model)
    assert json.loads(replayed.model_dump_json())["usage"]["completion_tokens"] == 4


def test_a_long_stream_records_in_flat_memory(upstream: Upstream, tmp_path: Path) -> None:
    """20,000 events of 1 KB (20 MB) through a `mockserver record` process: its memory
    after the stream is about what it was after a stream a tenth as long."""
    from hostile import rss_bytes, serve_process

    upstream.event_size = 1000
    empty = tmp_path / "scenarios"
    empty.mkdir()
    out = tmp_path / "recordings"

    def stream(events: int, prompt: str) -> int:
        upstream.events = events
        body = chat_body(f"many events {prompt}")
        received = 0
        with httpx.Client(timeout=60.0) as client:
            with client.stream("POST", url + "/v1/chat/completions", json=body) as answer:
                for piece in answer.iter_raw():
                    received += len(piece)
        return received

    with serve_process(empty, "--upstream", upstream.url, "--out", str(out), command="record") as url:
        stream(2_000, "warm up")
        before = rss_bytes(url)
        received = stream(20_000, "long")
        after = rss_bytes(url)
    assert received > 20_000_000
    assert after - before < 8 * 1024 * 1024, (before, after)
    (long,) = [f for f in out.glob("*.yaml") if "long" in f.name]
    assert len(load_scenarios([long])) == 1
    text = long.read_text()
    assert text.count('"' + "x" * 1000 + '"') == 20_000  # every event's text, each its own piece


# --- the pytest record modes, as a user's suite runs them ---

INNER_INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""
INNER_TEST = """
from openai import OpenAI

PROMPT = {prompt!r}

def test_weather(mockserver):
    with OpenAI(base_url=mockserver.openai_url, api_key="sk-SECRET-inner", max_retries=0) as client:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{{"role": "user", "content": PROMPT}}], stream=True)
        with stream:
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Once upon a time."
"""


def test_pytest_record_modes(pytester: pytest.Pytester, upstream: Upstream) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_story=INNER_TEST.format(prompt="tell me a story"))
    recording = pytester.path / "tests" / "recordings" / "test_story" / "test_weather.yaml"

    # none (the default) with nothing recorded: the upstream is not asked; the test fails, saying why
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, errors=1)
    assert upstream.seen == [] and not recording.exists()

    # new: recorded from the upstream, into tests/recordings/<module>/<test>.yaml
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--mockserver-record=new", f"--mockserver-upstream={upstream.url}"
    )
    result.assert_outcomes(passed=1)
    assert len(upstream.seen) == 1 and recording.is_file()
    assert "SECRET" not in recording.read_text()

    # none, the upstream stopped: replayed from the recording
    upstream.stop()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)

    # none, a changed prompt: fails with strict mode's explanation, naming the recording
    pytester.makepyfile(test_story=INNER_TEST.format(prompt="tell me a different story"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no scenario answers POST /v1/chat/completions*chat-tell-me-a-story-*: first_message '^tell me a story$' does not match the first user message 'tell me a different story'*"
        ]
    )


def test_pytest_record_all_records_again(pytester: pytest.Pytester, upstream: Upstream) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_story=INNER_TEST.format(prompt="tell me a story"))
    arguments = ("-p", "no:cacheprovider", f"--mockserver-upstream={upstream.url}")
    pytester.runpytest_subprocess(*arguments, "--mockserver-record=new").assert_outcomes(passed=1)
    pytester.runpytest_subprocess(*arguments, "--mockserver-record=new").assert_outcomes(passed=1)
    assert len(upstream.seen) == 1  # new: what is recorded is played
    pytester.runpytest_subprocess(*arguments, "--mockserver-record=all").assert_outcomes(passed=1)
    assert len(upstream.seen) == 2  # all: recorded again
    (recording,) = (pytester.path / "tests" / "recordings").rglob("*.yaml")
    assert recording.read_text().count("\n      - ") == 1  # replaced, not added to


def test_pytest_record_new_needs_an_upstream(pytester: pytest.Pytester) -> None:
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_story=INNER_TEST.format(prompt="x"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mockserver-record=new")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mockserver-record=new and =all need --mockserver-upstream*"])


def test_an_upstream_that_stalls_is_recorded_as_a_stall(upstream: Upstream, folder: Path) -> None:
    with MockServer(upstream=upstream.url, record_to=str(folder), stall_after=0.5) as server:
        with pytest.raises(DROPPED):
            chat_stream(openai(server), "stall please")
    (file,) = folder.glob("*.yaml")
    text = file.read_text()
    assert text.rstrip().endswith("- {stall: true}")  # from the last byte on, nothing came
    upstream.stop()
    with MockServer([folder]) as server:
        started = time.monotonic()
        with pytest.raises(DROPPED):  # held open until the client gives up
            chat_stream(openai(server, timeout=1.0), "stall please")
        assert time.monotonic() - started >= 0.9


def test_the_readme_recording_is_a_valid_scenario() -> None:
    from mockserver.scenario import load_text

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("```yaml\n# Recorded by mockserver on ", 1)[1].split("```", 1)[0]
    (scenario,) = load_text("# Recorded by mockserver on " + block, "README.md")
    assert len(scenario.conversation) == 2 and scenario.match is not None
    assert scenario.match.first_message is not None
    assert scenario.match.first_message.search("What is the weather in Paris?")


def test_any_other_path_is_recorded_exactly(recorder: MockServer, upstream: Upstream, folder: Path) -> None:
    """An endpoint no API reads (raw SSE on a path of its own) is recorded as raw events."""
    body = {"prompt": "tell me a story", "stream": True}
    direct = raw_body(upstream.url, "/custom/stream", body)
    assert raw_body(recorder.url, "/custom/stream", body) == direct
    recorder.stop_recording()
    upstream.stop()
    (file,) = folder.glob("*.yaml")
    assert file.name.startswith("raw-") and '"/custom/stream"' in file.read_text()
    with MockServer([folder], strict=True) as server:
        assert raw_body(server.url, "/custom/stream", body) == direct


def test_the_upstreams_query_is_sent_and_not_written(upstream: Upstream, folder: Path) -> None:
    """A key in the upstream's query (as Gemini takes one) goes with every request, and
    never into a file; a user and password in the URL are refused."""
    with MockServer(upstream=f"{upstream.url}/v1?key=SECRETKEY", record_to=str(folder)) as server:
        chat_stream(openai(server), "tell me a story")
    assert upstream.seen[-1]["path"] == "/v1/chat/completions"
    assert upstream.seen[-1]["query"] == "key=SECRETKEY"
    text = next(folder.glob("*.yaml")).read_text()
    assert f"from {upstream.url}/v1 (POST" in text and "SECRETKEY" not in text
    with pytest.raises(MockServerError, match="must not hold a user or password"):
        MockServer(upstream="http://user:PASSWORD@127.0.0.1:9", record_to=str(folder))
