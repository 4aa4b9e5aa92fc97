"""Recording real traffic: `mockserver record --upstream URL` and the pytest record
modes. A request no scenario answers goes to the upstream; its answer streams back
to the client as it arrives and is written as an editable scenario (SPEC §14)."""

from __future__ import annotations

from pathlib import Path

from .proxy import Recorder
from .recordings import Recordings
from .redact import Redactor

DEFAULT_DIR = "recordings"


def recorder(
    upstream: str,
    into: str | Path | None = None,
    *,
    redact: tuple[str, ...] = (),
    exact: bool = False,
    stall_after: float = 30.0,
) -> Recorder:
    """A recorder sending misses to `upstream`, writing into `into`: a folder (a file
    per conversation), or a `.yaml` file (every conversation in it)."""
    target = Path(into if into is not None else DEFAULT_DIR)
    recordings = Recordings(
        target,
        single_file=target.suffix in (".yaml", ".yml"),
        redactor=Redactor(redact) if redact else None,
        upstream=upstream,
    )
    return Recorder(upstream, recordings, exact=exact, stall_after=stall_after)


__all__ = ["Recorder", "recorder"]
