"""The floor: the least aiohttp can do to play the same stream. The scenario's
bytes are rendered once, before serving; each request just writes them on the
loop clock's deadlines, one write per moment, with no scenario engine, no
journal, no logging. Every mockserver figure is also given as a ratio to this.
It runs on the event loop mockserver serves on (uvloop where installed, unless
MOCKSERVER_LOOP=asyncio), so a ratio compares the two servers, not two loops.

    python bench/floor.py SCENARIO_FILE NAME [--api chat] [--time-scale 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from event_loop import runner

from mockserver.render import APIS, plan_response
from mockserver.render.api import sample
from mockserver.scenario import load_scenarios


def build(path: str, name: str, api_name: str) -> web.Application:
    scenario = next(s for s in load_scenarios([path]) if s.name == name)
    api = APIS[api_name]
    request = sample(api, "bench", "hi", stream=True)
    plan = plan_response(api, scenario.responses[0], request, scenario=name, number=0, seed=0)
    writes = [(w.at, w.data) for w in plan.writes]
    headers = dict(plan.headers)
    scale = float(ARGS.time_scale)

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at, data in writes:
            delay = start + at * scale - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await response.write(data)
        if plan.ending == "stall":
            await asyncio.Event().wait()
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    return app


async def serve(app: web.Application) -> None:
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.25)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
    await site.start()
    print(f"floor on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("name")
parser.add_argument("--api", default="chat")
parser.add_argument("--time-scale", default="1")
ARGS = parser.parse_args()

if __name__ == "__main__":
    run = runner()
    try:
        run(serve(build(ARGS.path, ARGS.name, ARGS.api)))
    except KeyboardInterrupt:
        pass
