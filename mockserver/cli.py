"""The `mockserver` command (SPEC §2). Thin: parse flags, call the library."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiohttp import web

from .errors import MockServerError, ScenarioErrors
from .render import APIS, ApiRequest, BadRequest, plan_response
from .runner import start_site
from .scenario import load_scenarios, scenario_files
from .scenario.fields import suggest
from .scenario.schema import json_schema
from .server.app import CLIENT_TIMEOUT, MAX_BODY, STATE, create_app
from .server.chaos import FAULTS, parse_faults
from .server.journal import DEFAULT_SIZE
from .server.log import RequestLog
from .show import describe_match, describe_responses, format_plan, sample_request


def _env(flag: str, default: str | None = None) -> str | None:
    return os.environ.get(f"MOCKSERVER_{flag.upper().replace('-', '_')}", default)


def _default_paths(paths: Sequence[str]) -> list[str]:
    if paths:
        return list(paths)
    return ["scenarios"] if Path("scenarios").is_dir() else []


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="Play scripted streaming LLM API responses (OpenAI, Anthropic, SSE).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('mockserver')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve scenarios over HTTP")
    serve.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="scenario files and folders (default: ./scenarios if it exists)",
    )
    serve.add_argument(
        "--host", default=_env("host", "127.0.0.1"), help="default 127.0.0.1 [MOCKSERVER_HOST]"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(_env("port", "8080") or 8080),
        help="default 8080; 0 picks a free port [MOCKSERVER_PORT]",
    )
    serve.add_argument(
        "--time-scale",
        type=float,
        default=float(_env("time_scale", "1") or 1),
        help="multiply every delay; 0 plays instantly [MOCKSERVER_TIME_SCALE]",
    )
    seed = _env("seed")
    serve.add_argument(
        "--seed",
        type=int,
        default=int(seed) if seed else None,
        help="seed for scenarios without their own [MOCKSERVER_SEED]",
    )
    serve.add_argument(
        "--default",
        default=_env("default"),
        help="scenario for requests no rule matches [MOCKSERVER_DEFAULT]",
    )
    serve.add_argument(
        "--chaos",
        type=float,
        default=float(_env("chaos", "0") or 0),
        metavar="RATE",
        help="inject a fault into this share of requests, 0 to 1 [MOCKSERVER_CHAOS]",
    )
    serve.add_argument(
        "--chaos-seed",
        type=int,
        default=int(_env("chaos_seed", "0") or 0),
        help="seed of the chaos: the same seed and requests, the same faults [MOCKSERVER_CHAOS_SEED]",
    )
    serve.add_argument(
        "--chaos-faults",
        default=_env("chaos_faults", ",".join(FAULTS)),
        metavar="LIST",
        help=f"which faults, comma-separated (default: all: {','.join(FAULTS)}) [MOCKSERVER_CHAOS_FAULTS]",
    )
    serve.add_argument(
        "--cors",
        default=_env("cors", "*"),
        metavar="ORIGINS",
        help="origins allowed to call the API endpoints from a browser; '' turns CORS off [MOCKSERVER_CORS]",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=_env("log_format", "text"),
        help="one line per request, for people or for machines [MOCKSERVER_LOG_FORMAT]",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=int(_env("journal_size", str(DEFAULT_SIZE)) or DEFAULT_SIZE),
        metavar="N",
        help=f"requests the journal keeps, the oldest dropped first (default {DEFAULT_SIZE}) "
        "[MOCKSERVER_JOURNAL_SIZE]",
    )
    serve.add_argument(
        "--max-body",
        type=int,
        default=int(_env("max_body", str(MAX_BODY)) or MAX_BODY),
        metavar="BYTES",
        help=f"larger request bodies get a 413 (default {MAX_BODY}) [MOCKSERVER_MAX_BODY]",
    )
    serve.add_argument(
        "--client-timeout",
        type=float,
        default=float(_env("client_timeout", str(CLIENT_TIMEOUT)) or CLIENT_TIMEOUT),
        metavar="SECONDS",
        help="a client must send its request head, and its body, within this (default 10) "
        "[MOCKSERVER_CLIENT_TIMEOUT]",
    )
    serve.add_argument(
        "--admin-token",
        default=_env("admin_token"),
        help="require `Authorization: Bearer TOKEN` on the admin API [MOCKSERVER_ADMIN_TOKEN]",
    )

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
    show.add_argument("--no-stream", action="store_true", help="as a request without stream=true")
    show.add_argument("--model", default="gpt-4o-mini", help="the request's model")
    show.add_argument("--message", default="Hello!", help="the request's last user message")
    show.add_argument("--seed", type=int, default=None)
    show.add_argument("--raw", action="store_true", help="write only the body bytes, exactly")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "validate":
            return _validate(args.paths)
        if args.command == "list":
            return _list(_default_paths(args.paths))
        if args.command == "schema":
            print(json.dumps(json_schema(), indent=2))
            return 0
        return _show(args)
    except ScenarioErrors as exc:
        for error in exc.errors:
            print(error.format(), file=sys.stderr)
        return 1
    except MockServerError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 1


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
    body = sample_request(api.name, args.model, args.message, stream=not args.no_stream)
    try:
        request = api.parse(body, ApiRequest(api.name, json=body))
    except BadRequest as exc:  # pragma: no cover - our own sample request
        raise MockServerError(exc.message) from None
    numbers = range(len(scenario.responses))
    if args.response is not None:
        if not 1 <= args.response <= len(scenario.responses):
            raise MockServerError(f"{scenario.name} has {len(scenario.responses)} responses")
        numbers = range(args.response - 1, args.response)
    out = sys.stdout
    for number in numbers:
        plan = plan_response(
            api,
            scenario.response_for(number),
            request,
            scenario=scenario.name,
            number=number,
            seed=scenario.seed if scenario.seed is not None else args.seed,
        )
        if args.raw:
            out.flush()
            sys.stdout.buffer.write(b"".join(w.data for w in plan.writes))
            sys.stdout.buffer.flush()
            continue
        title = f"{scenario.name} · response {number + 1} of {len(scenario.responses)} · {api.name}"
        out.write(format_plan(plan, title))
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
    paths = _default_paths(args.paths)
    try:
        faults = parse_faults(args.chaos_faults)
    except ValueError as exc:
        raise MockServerError(str(exc)) from None
    app = create_app(
        paths,
        time_scale=args.time_scale,
        seed=args.seed,
        default=args.default,
        admin_token=args.admin_token,
        chaos=args.chaos,
        chaos_seed=args.chaos_seed,
        chaos_faults=faults,
        cors=args.cors,
        max_body=args.max_body,
        client_timeout=args.client_timeout,
        journal_size=args.journal_size,
    )
    app[STATE].log = RequestLog(sys.stderr, fmt=args.log_format)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s  %(name)s  %(message)s", datefmt="%H:%M:%S"
    )
    warning = exposure_warning(args.host, args.admin_token)
    if warning:
        print(warning, file=sys.stderr)
    return _loop_runner()(_serve_forever(app, args.host, args.port, paths))


def _loop_runner() -> Callable[[Coroutine[Any, Any, int]], int]:
    """uvloop's runner when it is installed (`pip install mockserver[fast]`), else asyncio's.
    MOCKSERVER_LOOP=asyncio keeps asyncio's."""
    if _env("loop", "auto") != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run
    return asyncio.run


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
    count = len(app[STATE].registry)
    source = ", ".join(paths) if paths else "no files (auto-responder only)"
    url = f"http://{host}:{bound}"
    print(
        f"mockserver {version('mockserver')} serving {count} scenario{'s' if count != 1 else ''} "
        f"from {source} on {url}  (OPENAI_BASE_URL={url}/v1)",
        flush=True,
    )
    await stop.wait()
    await runner.cleanup()
    log = app[STATE].log
    print(log.summary() if log is not None else "mockserver stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
