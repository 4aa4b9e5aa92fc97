import json

from openai import OpenAI

client = OpenAI()

functions = [
    {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    }
]

stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "What's the weather like in Boston?"}],
    functions=functions,
    function_call="auto",
    stream=True,
)

function_name = ""
function_args = ""
for chunk in stream:
    delta = chunk.choices[0].delta
    if delta.function_call:
        if delta.function_call.name:
            function_name += delta.function_call.name
        if delta.function_call.arguments:
            function_args += delta.function_call.arguments

print(f"Function: {function_name}")
print(f"Arguments: {json.loads(function_args)}")
