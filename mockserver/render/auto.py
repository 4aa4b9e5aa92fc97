"""The auto-responder: how the server answers when no scenario applies,
so a bare `mockserver serve` behaves like the real API."""

from __future__ import annotations

from ..scenario.model import Fake, FakeArguments, Response, Split, Timing, ToolCall
from ..scenario.template import literal
from .request import ApiRequest

AUTO_NAME = "auto"
# Fast enough for a test suite, slow enough that a person sees it stream.
AUTO_TIMING = Timing(first=0.05, interval=0.01)


def auto_response(request: ApiRequest) -> Response:
    """A Faker paragraph word by word; or, when the request requires a tool, a
    call of that tool (the first one offered for `required`) with arguments made
    from its schema."""
    choice = request.tool_choice
    if request.tools and choice not in (None, "auto", "none"):
        tool = request.tool(choice) if choice != "required" else None
        tool = tool or request.tools[0]
        call = ToolCall(
            name=literal(tool.name), arguments=FakeArguments(), index=0, split=Split("pieces", size=4)
        )
        return Response(line=0, stream=(call,), timing=AUTO_TIMING)
    return Response(line=0, stream=(Fake("paragraph", split=Split("words")),), timing=AUTO_TIMING)
