"""The recordings a recording server keeps: one scenario document per conversation
(its turns in order, each turn's answers in the order they came), written as files
under a folder (`record --out DIR`: a file each) or into one file (the pytest
fixture: a file per test, a document per conversation).

Like VCR's "new episodes": an answer already recorded is played again, once per
session in the order recorded (a retried turn gets its next answer, as when it was
recorded); a request with none left goes to the upstream and its answer is added."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from ..render.request import ApiRequest
from ..scenario import Response, Scenario
from ..scenario.load import load_text
from .redact import Redactor, escape
from .yaml_out import flow, quote

MAX_ANCHOR = 2000  # characters of a first message a match spells out; longer ones match on this prefix


@dataclass
class Part:
    """One recorded answer: its response keys (YAML lines) and its steps (a spool file)."""

    head: list[str]
    steps: Path | None = None


@dataclass
class Conversation:
    name: str
    match: dict[str, Any]
    comment: list[str]
    turns: list[list[Part]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # other scenario keys of a loaded document
    scenario: Scenario | None = None  # loaded from what was written, when a replay needs it


class Recordings:
    def __init__(self, target: Path, *, single_file: bool, redactor: Redactor | None, upstream: str) -> None:
        self.target = target
        self.single_file = single_file
        self.redactor = redactor
        self.upstream = upstream
        self.conversations: dict[str, Conversation] = {}
        self.played: dict[tuple[str, int], int] = {}  # (conversation, turn) → answers played this session
        self.spool = Path(tempfile.mkdtemp(prefix="mockserver-record-"))
        self.spooled = 0
        self._load()

    # --- finding an answer ---

    def key(self, request: ApiRequest) -> str:
        """The name of the conversation a request belongs to (and of its document)."""
        first = request.conversation.first_message
        digest = hashlib.blake2b(
            "\0".join((request.path, request.model, first)).encode("utf-8", "surrogatepass"), digest_size=4
        ).hexdigest()
        shown = self.redactor.text(first) if self.redactor is not None else first
        words = re.findall(r"[a-z0-9]+", shown.lower())[:6]
        slug = "-".join(words)[:40].strip("-")
        return f"{request.api}-{slug}-{digest}" if slug else f"{request.api}-{digest}"

    def replay(self, request: ApiRequest) -> tuple[Scenario, Response] | None:
        """The recorded answer this request gets, or None: it goes to the upstream."""
        name = self.key(request)
        turn = request.conversation.turn
        played = self.played.get((name, turn), 0)
        self.played[(name, turn)] = played + 1
        conversation = self.conversations.get(name)
        if (
            conversation is None
            or turn > len(conversation.turns)
            or played >= len(conversation.turns[turn - 1])
        ):
            return None
        if conversation.scenario is None:
            conversation.scenario = self._scenario(conversation)
        scenario = conversation.scenario
        index = scenario.turn_indices(turn)[played]
        return scenario, scenario.responses[index]

    def latest(self, request: ApiRequest) -> tuple[Scenario, Response]:
        """The answer last recorded for the request's conversation and turn."""
        conversation = self.conversations[self.key(request)]
        if conversation.scenario is None:
            conversation.scenario = self._scenario(conversation)
        scenario = conversation.scenario
        return scenario, scenario.responses[scenario.turn_indices(request.conversation.turn)[-1]]

    # --- adding one ---

    def new_steps(self) -> tuple[Path, IO[str]]:
        """A spool file for the steps of an answer being recorded."""
        self.spooled += 1
        path = self.spool / f"{self.spooled}.steps"
        return path, path.open("w", encoding="utf-8")

    def add(self, request: ApiRequest, head: list[str], steps: Path | None, method: str) -> Path:
        """Add an answer to the request's conversation, at its turn; write the file."""
        name = self.key(request)
        conversation = self.conversations.get(name)
        if conversation is None:
            conversation = Conversation(name, self._match(request), self._comment(method, request.path))
            self.conversations[name] = conversation
        turn = request.conversation.turn
        while len(conversation.turns) < turn:
            conversation.turns.append([])
        conversation.turns[turn - 1].append(Part(head, steps))
        if len(conversation.comment) < 2 and sum(map(len, conversation.turns)) > 1:
            conversation.comment += self._comment(method, request.path, "Extended")
        conversation.scenario = None
        return self._write(conversation)

    def _match(self, request: ApiRequest) -> dict[str, Any]:
        first = request.conversation.first_message
        anchored = self.redactor.pattern(first[:MAX_ANCHOR]) if self.redactor else escape(first[:MAX_ANCHOR])
        match: dict[str, Any] = {"path": request.path, "model": request.model}
        match["first_message"] = "^" + anchored + ("$" if len(first) <= MAX_ANCHOR else "")
        return match

    def _comment(self, method: str, path: str, what: str = "Recorded") -> list[str]:
        when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return [f"{what} by mockserver on {when} from {_shown(self.upstream)} ({method} {path})."]

    # --- files ---

    def path_of(self, conversation: Conversation) -> Path:
        return self.target if self.single_file else self.target / f"{conversation.name}.yaml"

    def _write(self, conversation: Conversation) -> Path:
        path = self.path_of(conversation)
        path.parent.mkdir(parents=True, exist_ok=True)
        chosen = list(self.conversations.values()) if self.single_file else [conversation]
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".recording-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                for number, each in enumerate(chosen):
                    if number:
                        out.write("---\n")
                    for line in document_lines(each):
                        out.write(line)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def _scenario(self, conversation: Conversation) -> Scenario:
        text = "".join(document_lines(conversation))
        found = load_text(text, str(self.path_of(conversation)), conversation.name)
        return found[0]

    def _load(self) -> None:
        """The recordings already on disk: answers to replay and to keep when writing."""
        files = [self.target] if self.single_file else sorted(self.target.glob("*.yaml"))
        for path in files:
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            load_text(text, str(path))  # a broken recording is refused here, with file and line
            comments = _leading_comments(text)
            for number, document in enumerate(yaml.safe_load_all(text)):
                conversation = _loaded(document, path)
                if conversation is not None:
                    conversation.comment = comments[number] if number < len(comments) else []
                    self.conversations[conversation.name] = conversation

    def close(self) -> None:
        shutil.rmtree(self.spool, ignore_errors=True)


def _loaded(document: Any, path: Path) -> Conversation | None:
    if not isinstance(document, dict) or not isinstance(document.get("conversation"), list):
        return None
    extra = {k: v for k, v in document.items() if k not in ("name", "match", "conversation")}
    name = str(document.get("name") or path.stem)
    turns = []
    for turn in document["conversation"]:
        responses = turn.get("responses") if isinstance(turn, dict) else None
        turns.append([Part(_lines(response)) for response in responses or [] if isinstance(response, dict)])
    match: dict[str, Any] = document["match"] if isinstance(document.get("match"), dict) else {}
    return Conversation(name, match, [], turns, extra)


def _shown(url: str) -> str:
    """The upstream as a file may say it: no user, password or query (keys travel there)."""
    parts = urlsplit(url)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _leading_comments(text: str) -> list[list[str]]:
    """Each document's comment lines before its first key (the recording's note)."""
    found: list[list[str]] = [[]]
    reading = True
    for line in text.splitlines():
        if line.strip() == "---":
            found.append([])
            reading = True
        elif reading and line.startswith("#"):
            found[-1].append(line[1:].strip())
        elif line.strip():
            reading = False
    return found


def _lines(response: dict[str, Any]) -> list[str]:
    """A response as recordings spell it: a key a line, each step a line."""
    lines = []
    for key, value in response.items():
        if key == "stream" and isinstance(value, list):
            lines.append("stream:\n")
            lines += [f"  - {flow(step)}\n" for step in value]
        else:
            lines.append(f"{key}: {flow(value)}\n")
    return lines


def _block(value: dict[str, Any]) -> list[str]:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100_000)
    return text.splitlines(keepends=True)


def document_lines(conversation: Conversation) -> Iterator[str]:
    """The YAML of one conversation's document, line by line (steps streamed from their spool)."""
    for line in conversation.comment:
        yield f"# {line}\n"
    yield f"name: {conversation.name}\n"
    for key, value in conversation.extra.items():
        yield from _block({key: value})
    yield "match:\n"
    for key, value in conversation.match.items():
        yield f"  {key}: {flow(value) if not isinstance(value, str) else quote(value)}\n"
    yield "conversation:\n"
    for number, parts in enumerate(conversation.turns, start=1):
        yield f"  - match: {{turn: {number}}}\n"
        if not parts:  # a later turn was recorded first (its history was the client's own)
            yield f"    responses: [{{status: 404, error: {quote(f'turn {number} was not recorded')}}}]\n"
            continue
        yield "    responses:\n"
        for part in parts:
            lead = "      - "
            for line in part.head:
                yield lead + line
                lead = "        "
            if part.steps is not None:
                yield lead + "stream:\n"
                with part.steps.open(encoding="utf-8") as steps:
                    for line in steps:
                        yield "          " + line
