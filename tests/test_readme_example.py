from openai import OpenAI

FLAKY = """
responses:
  - {status: 503, headers: {retry-after-ms: "10"}}
  - stream: [{text: "Hello!", split: chars}]
"""


def test_retries_then_streams(mockserver):
    name = mockserver.add(FLAKY)
    client = OpenAI(base_url=mockserver.url_for(name) + "/v1", api_key="test")
    chat = [{"role": "user", "content": "Hi"}]
    stream = client.chat.completions.create(model="gpt-4o", messages=chat, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Hello!"
    assert [r.status for r in mockserver.requests] == [503, 200]  # the SDK retried
