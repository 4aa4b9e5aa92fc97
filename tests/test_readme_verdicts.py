from openai import OpenAI

FLAKY = """
responses:
  - {status: 429, headers: {retry-after-ms: "200"}}
  - stream: [{text: "Worth the wait."}]
"""


def test_the_client_waits_as_it_is_asked(mockserver):
    name = mockserver.add(FLAKY)
    client = OpenAI(base_url=mockserver.url_for(name) + "/v1", api_key="test", max_retries=2)
    chat = [{"role": "user", "content": "Hi"}]
    stream = client.chat.completions.create(model="gpt-4o", messages=chat, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Worth the wait."
    mockserver.verdicts.assert_honoured_retry_after()  # the retry came >= 200 ms later
    mockserver.verdicts.assert_no_retry_after_output()
    print(mockserver.verdicts)  # every verdict, one line each
    client.close()
