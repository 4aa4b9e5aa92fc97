// Streams one chat completion with the openai Node SDK and prints what it joined.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: "test" });
const stream = await client.chat.completions.create({
  model: "gpt-4o",
  messages: [{ role: "user", content: "weather?" }],
  stream: true,
});
let text = "";
const args = {};
let finish = null;
for await (const chunk of stream) {
  const delta = chunk.choices[0]?.delta ?? {};
  text += delta.content ?? "";
  for (const call of delta.tool_calls ?? []) {
    args[call.index] = (args[call.index] ?? "") + (call.function?.arguments ?? "");
  }
  finish = chunk.choices[0]?.finish_reason ?? finish;
}
console.log(JSON.stringify({ text, args: JSON.parse(args[0]), finish }));
