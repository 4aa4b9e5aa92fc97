// Streams one generateContent call with @google/genai and prints what it joined.
import { GoogleGenAI } from "@google/genai";

const ai = new GoogleGenAI({ apiKey: "test", httpOptions: { baseUrl: process.env.GEMINI_BASE_URL } });
const stream = await ai.models.generateContentStream({
  model: "gemini-2.5-flash",
  contents: "weather in Paris?",
});
let text = "";
const calls = [];
let finish = null;
for await (const chunk of stream) {
  text += chunk.text ?? "";
  calls.push(...(chunk.functionCalls ?? []).map((c) => ({ name: c.name, args: c.args })));
  finish = chunk.candidates?.[0]?.finishReason ?? finish;
}
console.log(JSON.stringify({ text, calls, finish }));
