"""The `mockserver` command. Thin: parse flags, call the library."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from .config import MAX_BODY, STORE_SIZE, Config
from .errors import MockServerError, ScenarioErrors
from .record import DEFAULT_DIR
from .render import APIS
from .runner import start_site
from .scenario import load_scenarios, scenario_files
from .scenario.describe import describe_match, describe_responses
from .scenario.fields import suggest
from .scenario.schema import json_schema
from .server.app import STATE, create_app
from .server.chaos import FAULTS
from .server.journal import DEFAULT_BYTES, DEFAULT_ENTRY_BODY, DEFAULT_SIZE
from .server.log import RequestLog
from .server.state import ServerState
from .server.verdicts import by_session, judge
from .show import plans, show_text
from .version import __version__

ENV_PREFIX = "MOCKSERVER_"
CONFIG = object()  # an option's default is its Config field's
_CONFIG_DEFAULTS = Config()


def _env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


class _Parser(argparse.ArgumentParser):
    """Flags and paths in any order (`show NAME --api anthropic scenarios/`), and
    options that fall back to a MOCKSERVER_* variable, read only after parsing so
    that a bad value is a usage error naming the variable, for the command using it."""

    def __init__(self, *args: Any, intermixed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._env_options: list[tuple[argparse.Action, str, Any]] = []
        # the top parser, which holds the commands, cannot intermix: each command does
        self._intermixing = not intermixed

    def env_option(self, flag: str, default: Any, help: str, **options: Any) -> None:
        """`flag`, whose value when not given is $MOCKSERVER_FLAG, else `default`
        (CONFIG: the default of the Config field of the flag's name)."""
        env = _env_name(flag)
        action = self.add_argument(flag, default=None, help=f"{help} [{env}]", **options)
        if default is CONFIG:
            default = getattr(_CONFIG_DEFAULTS, action.dest)
        self._env_options.append((action, env, default))

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # argparse's intermixed parsing calls back into parse_known_args: once is enough
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            parsed, extra = self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False
        self._apply_env(parsed)
        return parsed, extra

    def _apply_env(self, parsed: argparse.Namespace) -> None:
        for action, env, default in self._env_options:
            if getattr(parsed, action.dest, None) is not None:
                continue  # given as a flag: it wins
            raw = os.environ.get(env)
            if raw is None:
                setattr(parsed, action.dest, default)
                continue
            try:
                value = action.type(raw) if callable(action.type) else raw
            except (TypeError, ValueError):
                kind = _KINDS.get(action.type, "value")
                self.error(f"{env}={raw!r} is not {kind} (for {action.option_strings[0]})")
            if action.choices is not None and value not in action.choices:
                allowed = ", ".join(map(str, action.choices))
                self.error(f"{env}={raw!r} is not one of {allowed} (for {action.option_strings[0]})")
            setattr(parsed, action.dest, value)


def _default_paths(paths: Sequence[str]) -> list[str]:
    if paths:
        return list(paths)
    return ["scenarios"] if Path("scenarios").is_dir() else []


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        intermixed=False,
        prog="mockserver",
        description="Play scripted streaming LLM API responses (OpenAI, Anthropic, SSE).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser("serve", help="serve scenarios over HTTP")
    serve.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="scenario files and folders (default: ./scenarios if it exists)",
    )
    _serve_options(serve)

    record = commands.add_parser(
        "record",
        help="serve, sending requests no scenario answers to an upstream and recording its answers",
    )
    record.add_argument(
        "paths", nargs="*", metavar="PATH", help="scenario files and folders to answer from (default: none)"
    )
    record.env_option(
        "--upstream", None, "the real API's base URL, e.g. https://api.openai.com", required=False
    )
    record.env_option(
        "--out",
        DEFAULT_DIR,
        f"the folder recordings are written to, a file per conversation (default ./{DEFAULT_DIR})",
        metavar="DIR",
        dest="record_to",
    )
    record.add_argument(
        "--redact",
        action="append",
        default=[],
        metavar="REGEX",
        help="write text matching REGEX as [redacted] (repeatable)",
    )
    record.add_argument(
        "--exact",
        action="store_true",
        help="record raw events instead of steps (replays on the recorded API only)",
    )
    record.env_option(
        "--stall-after",
        CONFIG,
        "seconds without a byte from the upstream recorded as a stall (default 30)",
        type=_positive_float,
        metavar="SECONDS",
    )
    _serve_options(record)
    validate = commands.add_parser("validate", help="check scenario files")
    validate.add_argument("paths", nargs="*", metavar="PATH")

    listing = commands.add_parser("list", help="one row per scenario")
    listing.add_argument("paths", nargs="*", metavar="PATH")

    commands.add_parser("schema", help="print the JSON Schema of the scenario language")

    show = commands.add_parser("show", help="print the exact bytes and schedule of a scenario")
    show.add_argument("name", metavar="NAME")
    show.add_argument("paths", nargs="*", metavar="PATH")
    show.add_argument("--api", default="chat", choices=sorted(APIS))
    show.add_argument(
        "--response",
        type=int,
        default=None,
        metavar="N",
        help="only response N (1-based; default: every response)",
    )
    show.add_argument(
        "--turn",
        type=int,
        default=None,
        metavar="K",
        help="a conversation scenario's turn K (1-based; the last repeats), for a request at that turn",
    )
    show.add_argument("--no-stream", action="store_true", help="as a request without stream=true")
    show.add_argument("--model", default="gpt-4o-mini", help="the request's model")
    show.add_argument("--message", default="Hello!", help="the request's last user message")
    show.add_argument("--seed", type=int, default=None)
    show.add_argument("--raw", action="store_true", help="write only the body bytes, exactly")
    return parser


def _serve_options(serve: _Parser) -> None:
    """The flags `serve` and `record` share."""
    serve.env_option("--host", "127.0.0.1", "default 127.0.0.1")
    serve.env_option("--port", 8080, "default 8080; 0 picks a free port", type=int)
    serve.env_option(
        "--time-scale", CONFIG, "multiply every delay; 0 plays instantly", type=_non_negative_float
    )
    serve.env_option("--seed", CONFIG, "seed for scenarios without their own", type=int)
    serve.env_option("--default", CONFIG, "scenario for requests no rule matches")
    serve.env_option(
        "--chaos", CONFIG, "inject a fault into this share of requests, 0 to 1", type=float, metavar="RATE"
    )
    serve.env_option(
        "--chaos-seed", CONFIG, "seed of the chaos: the same seed and requests, the same faults", type=int
    )
    serve.env_option(
        "--chaos-faults",
        CONFIG,
        f"which faults, comma-separated (default: all: {','.join(FAULTS)})",
        metavar="LIST",
    )
    serve.env_option(
        "--chaos-session",
        CONFIG,
        "inject faults only into requests of this X-Mock-Session value",
        metavar="SESSION",
    )
    serve.env_option(
        "--cors",
        CONFIG,
        "origins allowed to call the API endpoints from a browser; '' turns CORS off",
        metavar="ORIGINS",
    )
    serve.env_option(
        "--log-format",
        "text",
        "one line per request, for people or for machines",
        choices=("text", "json"),
    )
    serve.env_option(
        "--journal-size",
        CONFIG,
        f"requests the journal keeps, the oldest dropped first (default {DEFAULT_SIZE})",
        type=int,
        metavar="N",
    )
    serve.env_option(
        "--journal-bytes",
        CONFIG,
        f"about how many bytes the journal keeps, the oldest dropped first (default {DEFAULT_BYTES}); "
        f"a body over {DEFAULT_ENTRY_BODY} bytes is kept as its size, hash and start",
        type=int,
        metavar="BYTES",
    )
    serve.env_option(
        "--store-size",
        CONFIG,
        f"Responses answers kept so previous_response_id can continue them (default {STORE_SIZE})",
        type=int,
        metavar="N",
    )
    serve.env_option(
        "--max-body",
        CONFIG,
        f"larger request bodies get a 413 (default {MAX_BODY})",
        type=int,
        metavar="BYTES",
    )
    serve.env_option(
        "--client-timeout",
        CONFIG,
        "a client must send its request head, and its body, within this (default 10)",
        type=float,
        metavar="SECONDS",
    )
    serve.env_option("--admin-token", CONFIG, "require `Authorization: Bearer TOKEN` on the admin API")
    serve.add_argument(
        "--strict",
        action="store_true",
        help="no auto-responder: a request no scenario takes gets a 404 that says, per scenario, why",
    )
    serve.env_option(
        "--loop",
        "auto",
        "the event loop: uvloop when installed (auto), or asyncio",
        choices=("auto", "asyncio", "uvloop"),
    )


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(text)
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError(text)
    return value


_KINDS: dict[Any, str] = {
    _positive_float: "a number over 0",
    float: "a number",
    int: "a whole number",
    _non_negative_float: "a number, 0 or more",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ScenarioErrors as exc:
        for error in exc.errors:
            print(error.format(), file=sys.stderr)
        return 1
    except MockServerError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `mockserver list | head -1`: the reader has all it wanted. Quietly, and
        # stdout pointed at nothing so the interpreter's last flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace) -> int:
    if args.command in ("serve", "record"):
        return _serve(args)
    if args.command == "validate":
        return _validate(args.paths)
    if args.command == "list":
        return _list(_default_paths(args.paths))
    if args.command == "schema":
        print(json.dumps(json_schema(), indent=2))
        return 0
    return _show(args)


def _validate(paths: Sequence[str]) -> int:
    paths = _default_paths(paths)
    files = scenario_files(paths)
    scenarios = load_scenarios(paths)
    print(f"{len(scenarios)} scenarios in {len(files)} files OK")
    return 0


def _list(paths: Sequence[str]) -> int:
    scenarios = load_scenarios(paths)
    rows = [("NAME", "MATCH", "RESPONSES")]
    rows += [(s.name, describe_match(s), describe_responses(s)) for s in scenarios]
    width = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, rule, responses in rows:
        print(f"{name:<{width[0]}}  {rule:<{width[1]}}  {responses}")
    return 0


def _show(args: argparse.Namespace) -> int:
    scenarios = {s.name: s for s in load_scenarios(_default_paths(args.paths))}
    scenario = scenarios.get(args.name)
    if scenario is None:
        raise MockServerError(
            f"no scenario named {args.name!r}{suggest(args.name, scenarios)}; "
            f"loaded: {', '.join(scenarios) or 'none'}"
        )
    api = APIS[args.api]
    if args.raw:
        for plan in plans(
            scenario,
            api,
            response=args.response,
            turn=args.turn,
            stream=not args.no_stream,
            model=args.model,
            message=args.message,
            seed=args.seed,
        ):
            sys.stdout.flush()
            sys.stdout.buffer.write(b"".join(w.data for w in plan.writes))
            sys.stdout.buffer.flush()
        return 0
    sys.stdout.write(
        show_text(
            scenario,
            api,
            response=args.response,
            turn=args.turn,
            stream=not args.no_stream,
            model=args.model,
            message=args.message,
            seed=args.seed,
        )
    )
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def exposure_warning(host: str, admin_token: str | None) -> str | None:
    """The warning for a server others can reach whose admin API anyone may use."""
    if host in LOOPBACK or admin_token:
        return None
    return (
        f"mockserver: warning: listening on {host} without --admin-token: anyone who can reach "
        "this port can change its scenarios through /_mock/"
    )


def _serve(args: argparse.Namespace) -> int:
    recording = args.command == "record"
    paths = list(args.paths) if recording else _default_paths(args.paths)
    # every flag named as a Config field sets it (flags and fields share their names)
    config = Config(**{name: getattr(args, name) for name in Config.names() if hasattr(args, name)})
    if recording and not args.upstream:
        raise MockServerError("record needs --upstream URL (the real API's base URL)")
    app = create_app(paths, config)
    app[STATE].log = RequestLog(sys.stderr, fmt=args.log_format)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s  %(name)s  %(message)s", datefmt="%H:%M:%S"
    )
    warning = exposure_warning(args.host, args.admin_token)
    if warning:
        print(warning, file=sys.stderr)
    return _loop_runner(args.loop)(_serve_forever(app, args.host, args.port, paths))


def verdict_lines(state: ServerState) -> list[str]:
    """The verdicts of the shutdown summary: per session, what failed and what passed."""
    loop_now = asyncio.get_running_loop().time()
    lines = []
    for session, entries in by_session(state.journal.entries()).items():
        judged = [v for v in judge(entries, loop_now) if v.state != "not seen"]
        if judged:
            lines.append(f"verdicts for {session}:")
            lines += [f"  {v.state.upper():4}  {v.name}: {v.summary}" for v in judged]
    return lines


def _loop_runner(choice: str) -> Callable[[Coroutine[Any, Any, int]], int]:
    """uvloop's runner when it is installed (a dependency where it builds) and not
    declined (`--loop asyncio`), else asyncio's."""
    if choice == "asyncio":
        return asyncio.run
    try:
        uvloop = importlib.import_module("uvloop")  # optional: typed without its stubs
    except ImportError:
        if choice == "uvloop":
            raise MockServerError(
                "--loop uvloop: uvloop is not installed on this platform (pip install uvloop)"
            ) from None
        return asyncio.run
    run: Callable[[Coroutine[Any, Any, int]], int] = uvloop.run
    return run


async def _serve_forever(app: web.Application, host: str, port: int, paths: Sequence[str]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        runner, bound = await start_site(app, host, port)
    except OSError as exc:
        print(f"mockserver: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    # What is loaded by now (modules, scenarios) lives as long as the server: frozen,
    # the collector's full passes, which a long stream's many young objects set off,
    # no longer walk all of it again each time.
    gc.freeze()
    state = app[STATE]
    count = len(state.registry)
    url = f"http://{host}:{bound}"
    if state.recorder is not None:
        recordings = state.recorder.recordings
        source = f"{count} scenario{'s' if count != 1 else ''} and {len(recordings.conversations)} recordings"
        print(
            f"mockserver {__version__} recording on {url}: {source}; the rest goes to "
            f"{state.recorder.upstream}, recorded into {recordings.target}  (OPENAI_BASE_URL={url}/v1)  "
            f"console: {url}/_mock/console",
            flush=True,
        )
    else:
        source = ", ".join(paths) if paths else "no files (auto-responder only)"
        print(
            f"mockserver {__version__} serving {count} scenario{'s' if count != 1 else ''} "
            f"from {source} on {url}  (OPENAI_BASE_URL={url}/v1)  console: {url}/_mock/console",
            flush=True,
        )
    await stop.wait()
    await runner.cleanup()
    log = app[STATE].log
    print(log.summary() if log is not None else "mockserver stopped", file=sys.stderr, flush=True)
    for line in verdict_lines(state):
        print(line, file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
