// check.js: lcx serve driven by the official OpenAI SDK for Node, a client
// lcx did not write (tests/test_serve_openai.sh). A completion, a chat
// answer streamed and the same answer in one piece, a tokenize call through
// the SDK's generic POST, and a per-request RoPE field passed through.
//   node check.js NPM_DIR BASE_URL
'use strict';
const assert = require('assert');
const path = require('path');

async function main() {
  const [dir, base] = process.argv.slice(2);
  const mod = require(require.resolve('openai', { paths: [path.resolve(dir)] }));
  const OpenAI = mod.OpenAI || mod.default || mod;
  const client = new OpenAI({ baseURL: base + '/v1', apiKey: 'sk-openai-sdk-check', maxRetries: 0 });

  const models = await client.models.list();
  const model = models.data[0].id;
  assert.strictEqual(model, 'tiny-baseline');

  const c = await client.completions.create({ model, prompt: 'One of the special magic numbers for', max_tokens: 6 });
  assert.strictEqual(typeof c.choices[0].text, 'string');
  assert.strictEqual(c.usage.completion_tokens <= 6, true);
  assert.strictEqual(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);

  const messages = [{ role: 'user', content: 'One of the special magic numbers for' }];
  const whole = await client.chat.completions.create({ model, messages, max_tokens: 8 });
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 8, stream: true });
  let text = '', finish = null, role = null;
  for await (const chunk of stream) {
    const ch = chunk.choices[0];
    if (!ch) continue;
    if (ch.delta.role) role = ch.delta.role;
    if (ch.delta.content) text += ch.delta.content;
    if (ch.finish_reason) finish = ch.finish_reason;
  }
  assert.strictEqual(role, 'assistant');
  assert.strictEqual(text, whole.choices[0].message.content);
  assert.strictEqual(finish, whole.choices[0].finish_reason);

  const tok = await client.post('/tokenize', { body: { prompt: 'hello world', add_special_tokens: false } });
  assert.strictEqual(tok.count, tok.tokens.length);
  assert.ok(tok.count > 1);

  const scaled = await client.completions.create({ model, prompt: 'hello', max_tokens: 2, rope_scaling: { factor: 2 } });
  assert.strictEqual(scaled.lcx.rope.type, 'yarn');
  assert.strictEqual(scaled.lcx.rope.factor, 2);

  let refused = null;
  try {
    await client.completions.create({ model, prompt: 'hello', max_tokens: 'many' });
  } catch (e) {
    refused = e;
  }
  assert.ok(refused && refused.status === 400, 'a bad field is a 400 for the SDK');
  assert.strictEqual(refused.param, 'max_tokens');
  console.log(`openai sdk: completion, streamed chat (${JSON.stringify(text)}), tokenize (${tok.count} tokens), rope, 400: ok`);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
