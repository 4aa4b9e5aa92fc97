"""The event loop the bench's own servers run on: the one `mockserver serve` uses
(uvloop where installed, unless MOCKSERVER_LOOP=asyncio), so a ratio compares servers,
not loops."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any


def runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    if os.environ.get("MOCKSERVER_LOOP", "auto") != "asyncio":
        try:
            import uvloop

            return uvloop.run
        except ImportError:
            pass
    return asyncio.run
