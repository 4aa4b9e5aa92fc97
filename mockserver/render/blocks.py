"""Content blocks: the structure Responses (output items) and Anthropic (content
blocks) put around deltas. Turns a script's flat items into open / delta / close
marks, so each of those renderers only spells the marks.

Rules: text, reasoning and refusal each form a block that lasts while deltas of
the same channel follow; anything else that is content (another channel, a tool
call) closes it. A tool call's block opens at its start and closes right after its
last argument piece, so interleaved parallel calls stay open side by side. A
finish closes every open block; an error or a connection stop closes nothing.

`one_at_a_time` reorders those marks for APIs whose blocks never overlap on the
wire (Anthropic content blocks, Responses output items).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from .script import Beats, Delta, ErrorItem, FinishItem, Item, Script, StopItem, ToolArgs, ToolStart

Kind = Literal["text", "reasoning", "refusal", "tool"]


@dataclass
class Block:
    number: int  # 0, 1, 2… in the order blocks open
    kind: Kind
    tool: ToolStart | None = None  # for kind "tool"
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True, slots=True)
class Open:
    block: Block


@dataclass(frozen=True, slots=True)
class Add:
    block: Block
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    block: Block


Mark = Open | Add | Close | Item


def segment(script: Script) -> Iterator[tuple[float, Mark]]:
    """(time, mark) in order; items that are not content pass through as they are."""
    beats = script.beats
    last_piece = _last_tool_beats(beats)
    current: Block | None = None  # the open text/reasoning/refusal block
    tools: dict[int, Block] = {}  # open tool blocks by tool index
    count = 0

    def opened(kind: Kind, tool: ToolStart | None = None) -> Block:
        nonlocal count
        block = Block(count, kind, tool)
        count += 1
        return block

    for position, beat in enumerate(beats):
        item, at = beat.item, beat.at
        if isinstance(item, Delta):
            if current is None or current.kind != item.channel:
                if current is not None:
                    yield at, Close(current)
                current = opened(item.channel)
                yield at, Open(current)
            current.parts.append(item.text)
            yield at, Add(current, item.text)
        elif isinstance(item, ToolStart):
            if current is not None:
                yield at, Close(current)
                current = None
            started = tools[item.index] = opened("tool", item)
            yield at, Open(started)
            if last_piece.get(item.index) == position:
                yield at, Close(tools.pop(item.index))
        elif isinstance(item, ToolArgs):
            call = tools.get(item.index)
            if call is None:  # arguments after a finish closed their call: nothing to add to
                continue
            call.parts.append(item.text)
            yield at, Add(call, item.text)
            if last_piece.get(item.index) == position:
                yield at, Close(tools.pop(item.index))
        else:
            if isinstance(item, FinishItem):
                yield from _close_all(at, current, tools)
                current = None
                tools = {}
            yield at, item
    reply = script.reply
    if reply.stop is None and reply.error is None:
        yield from _close_all(script.end_at, current, tools)


def one_at_a_time(marks: Iterator[tuple[float, Mark]]) -> Iterator[tuple[float, Mark]]:
    """The marks with no two blocks open at once, as Anthropic and Responses send
    them (clients attach a delta to the open block only). A block that opens while
    another is open waits, its marks kept, until that one closes; then they go out
    at that moment (or, when the stream ends early, before that end). Nothing is
    lost and blocks keep their opening order (so their numbers still count up on
    the wire). Other items pass at once."""
    active: Block | None = None
    waiting: dict[int, list[tuple[float, Open | Add | Close]]] = {}  # by block number
    for at, mark in marks:
        if not isinstance(mark, (Open, Add, Close)):
            if isinstance(mark, (ErrorItem, StopItem)):  # the stream ends: what is held goes first
                for number in sorted(waiting):
                    yield from ((at, kept) for _, kept in waiting.pop(number))
            yield at, mark
            continue
        block = mark.block
        if active is None and isinstance(mark, Open) and not waiting:
            active = block
        if block is not active:
            waiting.setdefault(block.number, []).append((at, mark))
            continue
        yield at, mark
        if isinstance(mark, Close):
            active = None
            while waiting and active is None:  # the next block in line goes out now
                number = min(waiting)
                held = waiting.pop(number)
                yield from ((at, kept) for _, kept in held)
                if not isinstance(held[-1][1], Close):
                    active = held[0][1].block  # still open: its further marks go out live


def _close_all(at: float, current: Block | None, tools: dict[int, Block]) -> Iterator[tuple[float, Mark]]:
    if current is not None:
        yield at, Close(current)
    for block in sorted(tools.values(), key=lambda b: b.number):
        yield at, Close(block)


def _last_tool_beats(beats: Beats) -> dict[int, int]:
    """For each tool index, the position of its last beat (start or argument piece)."""
    last: dict[int, int] = {}
    for position, beat in beats.positions():  # tool beats are never in a text run
        if isinstance(beat.item, (ToolStart, ToolArgs)):
            last[beat.item.index] = position
    return last


def final_blocks(script: Script) -> list[Block]:
    """The blocks the whole script adds up to, in the order they open."""
    return [mark.block for _, mark in segment(script) if isinstance(mark, Open)]
