"""Agent frameworks run a whole multi-turn tool loop against one `conversation:`
scenario: the OpenAI Agents SDK (`Runner.run_streamed`, on a Chat and on a Responses
model) and LangChain's agent (`langchain.agents.create_agent` over ChatOpenAI). The
tools really run with the scripted arguments; the final text is the scripted one."""

from __future__ import annotations

import pytest

from helpers import WEATHER_AGENT, ServeFactory
from mockserver import MockServer

AGENT = WEATHER_AGENT


@pytest.fixture
def server(serve: ServeFactory) -> MockServer:
    return serve(AGENT, time_scale=0, strict=True)


@pytest.mark.parametrize("kind", ["chat", "responses"])
async def test_openai_agents_sdk_run_streamed(server: MockServer, kind: str) -> None:
    from agents import (
        Agent,
        OpenAIChatCompletionsModel,
        OpenAIResponsesModel,
        Runner,
        function_tool,
        set_tracing_disabled,
    )
    from openai import AsyncOpenAI

    set_tracing_disabled(True)  # no export to the network
    cities: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        cities.append(city)
        return "sunny"

    client = AsyncOpenAI(base_url=server.openai_url, api_key="k", max_retries=0)
    model = (
        OpenAIChatCompletionsModel("gpt-4o", client)
        if kind == "chat"
        else OpenAIResponsesModel("gpt-4.1", client)
    )
    agent = Agent(name="weather", instructions="Be brief.", tools=[get_weather], model=model)
    result = Runner.run_streamed(agent, "What is the weather in Paris?")
    async for _ in result.stream_events():
        pass
    await client.close()
    assert result.final_output == "It is sunny in Paris."
    assert cities == ["Paris"]
    assert [(e.turn, e.status) for e in server.requests] == [(1, 200), (2, 200)]
    server.verdicts.assert_tools_echoed()  # the SDK sent back the call id and arguments streamed


def test_langchain_agent(server: MockServer) -> None:
    from langchain.agents import create_agent
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    cities: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        cities.append(city)
        return "sunny"

    llm = ChatOpenAI(model="gpt-4o", base_url=server.openai_url, api_key="k", max_retries=0)  # type: ignore[arg-type]
    agent = create_agent(llm, [get_weather])
    out = agent.invoke({"messages": [("user", "What is the weather in Paris?")]})  # type: ignore[arg-type]
    assert out["messages"][-1].content == "It is sunny in Paris."
    assert cities == ["Paris"]
    assert [(e.turn, e.status) for e in server.requests] == [(1, 200), (2, 200)]
