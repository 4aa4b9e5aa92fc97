from openai import OpenAI

client = OpenAI()

with client.chat.completions.stream(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Say this is a test"}],
) as stream:
    for event in stream:
        if event.type == "content.delta":
            print(event.delta, end="", flush=True)

completion = stream.get_final_completion()
print()
print(completion.choices[0].message.content)
