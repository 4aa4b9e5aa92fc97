from openai import OpenAI

client = OpenAI()

stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Write a long essay."}],
    stream=True,
)

try:
    for i, chunk in enumerate(stream):
        print(chunk.choices[0].delta.content or "", end="")
        if i >= 9:  # stop after 10 chunks
            break
finally:
    stream.close()
print("\nclosed after 10 chunks")
