import json

from openai import OpenAI

AGENT = """
name: trip-agent
match: {text: "(?i)trip"}
conversation:
  - stream: [{tool_call: {name: get_weather, arguments: {city: Paris}}}]
  - match: {tool_result: {name: get_weather, contains: sunny}}
    responses:
      - {status: 503, headers: {retry-after-ms: "10"}}
      - stream: [{text: "Pack sunglasses: it is sunny in Paris."}]
"""
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def get_weather(city: str) -> str:
    return "sunny"


def test_the_agent_calls_the_tool_and_answers(mockserver):
    mockserver.add(AGENT)
    client = OpenAI(base_url=mockserver.openai_url, api_key="test", max_retries=2)
    messages = [{"role": "user", "content": "Plan my trip to Paris"}]
    while True:  # the loop under test: call the model until it stops asking for tools
        reply = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        if not message.tool_calls:
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = get_weather(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    assert message.content == "Pack sunglasses: it is sunny in Paris."
    assert [(r.turn, r.status) for r in mockserver.requests] == [(1, 200), (2, 503), (2, 200)]
    mockserver.assert_all_used()
    client.close()
