import asyncio

import openai
from openai import AsyncOpenAI

client = AsyncOpenAI(max_retries=0)


async def stream_with_retry(messages, max_retries=3):
    for attempt in range(max_retries):
        try:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=messages,
                stream=True,
            )
            chunks = []
            async for chunk in stream:
                content = chunk.choices[0].delta.content
                if content:
                    chunks.append(content)
            return "".join(chunks)
        except openai.APIError as e:
            if attempt == max_retries - 1:
                raise
            wait_time = 0.05 * 2**attempt
            print(f"Attempt {attempt + 1} failed: {e}. Retrying in {wait_time}s...")
            await asyncio.sleep(wait_time)


async def main():
    result = await stream_with_retry([{"role": "user", "content": "Hello"}])
    print(f"Result: {result}")


asyncio.run(main())
