"""Heavy work off the event loop, so one large request cannot stall every stream.

A render or a serialization that may take long (an embeddings reply of 130 MB, a
journal page of many large bodies) runs on a worker thread; the loop goes on
playing other streams, sharing the interpreter with it. One heavy job runs at a
time, so many of them cannot crowd the loop out. The thread is a daemon: a server
told to stop does not wait for it.

While it runs, the interpreter switches threads every HEAVY_SWITCH instead of every
5 ms: the loop, woken by a socket, would otherwise wait that long for its turn at
each wake-up, and a stream's events would come tens of milliseconds late.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
HEAVY_SWITCH = 0.0005  # seconds: how often threads switch while heavy work runs


@functools.cache
def _trim() -> Callable[[], None]:
    """glibc's malloc_trim, where there is one: after a heavy job (a 130 MB reply
    built and freed), it hands the freed memory back instead of keeping it. Found on
    first use, not at startup: loading ctypes and finding libc (ldconfig) take time."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]

    def give_back() -> None:
        trim(0)

    return give_back


def give_back_memory() -> None:
    """Hand the memory freed by heavy work back to the system (a no-op without glibc)."""
    _trim()()


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
                give_back_memory()
                try:
                    loop.call_soon_threadsafe(settle, result, error)
                except RuntimeError:
                    pass  # the loop has closed: the server stopped meanwhile

            usual = sys.getswitchinterval()
            sys.setswitchinterval(min(usual, HEAVY_SWITCH))
            try:
                threading.Thread(target=worker, name="mockserver-heavy", daemon=True).start()
                return await done
            finally:
                sys.setswitchinterval(usual)
