"""Reading an upstream's bytes back into frames, however the network cut them, and
the text the recorder writes reading back to exactly what was recorded."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.record.redact import REDACTED, Redactor, escape
from mockserver.record.yaml_out import flow, quote
from mockserver.render.frames import NdjsonFrames, SseFrames
from mockserver.render.reading import Frame
from mockserver.scenario.pattern import Pattern
from mockserver.scenario.template import compile_template, escape_template

STREAM = (
    ": hello\r\n\r\n"
    'event: message_start\r\ndata: {"a":\r\ndata:  "café ☕"}\r\nid: 7\r\nretry: 1500\r\n\r\n'
    "data: [DONE]\r\n\r\n"
).encode()
FRAMES = [
    Frame(comment="hello"),
    Frame(data='{"a":\n "café ☕"}', event="message_start", id="7", retry=1500),
    Frame(data="[DONE]"),
]


def read(frames: SseFrames | NdjsonFrames, body: bytes, cuts: list[int]) -> list[Frame]:
    out: list[Frame] = []
    start = 0
    for cut in sorted(set(cuts)):
        out += frames.feed(body[start:cut])
        start = cut
    return out + frames.feed(body[start:]) + frames.end()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_sse_frames_do_not_depend_on_where_the_network_cut(cuts: list[int]) -> None:
    """Cut anywhere, inside a CRLF or a UTF-8 character included, the frames are the same."""
    frames = SseFrames()
    assert read(frames, STREAM, cuts) == FRAMES
    assert frames.line_ending == "\r\n"


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=6))
def test_lf_cr_and_a_last_event_without_its_blank_line(cuts: list[int]) -> None:
    assert read(SseFrames(), b"data: a\n\ndata: b\r\rdata: c", cuts) == [
        Frame(data="a"),
        Frame(data="b"),
        Frame(data="c"),
    ]


def test_ndjson_frames_are_lines() -> None:
    frames = NdjsonFrames()
    assert read(frames, '{"a": "é"}\n\n{"b": 1}'.encode(), [3, 4]) == [
        Frame(data='{"a": "é"}', line=True),
        Frame(data='{"b": 1}', line=True),
    ]


@given(st.text())
def test_written_text_reads_back_exactly(text: str) -> None:
    """What a model writes, braces, quotes, line breaks and all, survives YAML and templates."""
    import yaml

    step = yaml.safe_load(flow({"text": escape_template(text), "split": [text]}))
    assert compile_template(step["text"]).render(None) == text  # type: ignore[arg-type]
    assert step["split"] == [text]
    assert "\n" not in quote(text)


@given(st.text(max_size=60))
def test_an_escaped_first_message_matches_itself_and_nothing_longer(text: str) -> None:
    pattern = Pattern("^" + escape(text) + "$")
    assert pattern.search(text)
    assert not pattern.search(text + "x")


def test_redaction_across_pieces_and_in_patterns() -> None:
    redactor = Redactor([r"sk-[a-z0-9]+"])

    class Piece:
        def __init__(self, text: str) -> None:
            self.key, self.text = ("text", 0), text

    pieces = [Piece("key sk-"), Piece("ab"), Piece("c9 ok")]
    redactor.pieces(pieces)
    assert [p.text for p in pieces] == ["key " + REDACTED, "", " ok"]
    assert redactor.text("a sk-x1 b sk-y2") == f"a {REDACTED} b {REDACTED}"
    pattern = Pattern("^" + redactor.pattern("use sk-abc now?") + "$")
    assert pattern.search("use sk-abc now?") and pattern.search("use sk-zzz now?")
    assert not pattern.search("use it now?x")
