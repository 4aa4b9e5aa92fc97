"""Heavy work off the event loop, so one large request cannot stall every stream.

A render or a serialization that may take long (an embeddings reply of 130 MB, a
journal page of many large bodies) runs on a worker thread; the loop goes on
playing other streams, sharing the interpreter with it. One heavy job runs at a
time, so many of them cannot crowd the loop out. The thread is a daemon: a server
told to stop does not wait for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Offload:
    def __init__(self) -> None:
        self._one_at_a_time = asyncio.Lock()

    async def run(self, work: Callable[[], T]) -> T:
        """`work()`'s result (or exception), computed on a worker thread."""
        async with self._one_at_a_time:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[T] = loop.create_future()

            def settle(result: T | None, error: BaseException | None) -> None:
                if done.done():
                    return  # the request was cancelled meanwhile
                if error is not None:
                    done.set_exception(error)
                else:
                    done.set_result(result)  # type: ignore[arg-type]

            def worker() -> None:
                try:
                    result, error = work(), None
                except BaseException as exc:  # handed to the waiting request
                    result, error = None, exc
                try:
                    loop.call_soon_threadsafe(settle, result, error)
                except RuntimeError:
                    pass  # the loop has closed: the server stopped meanwhile

            threading.Thread(target=worker, name="mockserver-heavy", daemon=True).start()
            return await done
