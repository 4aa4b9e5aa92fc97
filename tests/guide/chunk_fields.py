from openai import OpenAI

client = OpenAI()

stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Count to three."}],
    stream=True,
)

for chunk in stream:
    print(f"ID: {chunk.id}")
    print(f"Model: {chunk.model}")
    print(f"Created: {chunk.created}")
    choice = chunk.choices[0]
    print(f"Delta: {choice.delta}")
    print(f"Finish reason: {choice.finish_reason}")
