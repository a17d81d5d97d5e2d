// A fake OpenAI-compatible LLM provider for the peers bench, a real HTTP server on 127.0.0.1:
// POST /v1/chat/completions and POST /v1/responses (the Responses API, which the AI SDK's OpenAI
// provider in ElizaOS's plugin uses) answer at once with one fixed text, as JSON or as server-sent
// events when `stream: true`; /v1/embeddings answers constant vectors; /v1/models lists one model.
// Every contender's LLM calls come here over loopback: no contender talks to a real provider and
// none has its model client mocked. It counts the completions and embeddings it answered.
import { createServer } from 'node:http';

// The same answer for every contender. ElizaOS's message handler parses its model's answer as
// this XML (a REPLY action with a text) and answers with the text; agentd and Mastra hand the
// model's text back as it is. Either way the reply contains FAKE_REPLY.
export const FAKE_REPLY = 'Sure, done.';
export const FAKE_ANSWER = `<response><thought>Easy.</thought><actions>REPLY</actions><providers></providers><text>${FAKE_REPLY}</text></response>`;

export function startFakeLlm({ port = 0, answer = FAKE_ANSWER } = {}) {
  let requests = 0;
  let embeddings = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data: [{ id: 'fake', object: 'model', owned_by: 'fake' }],
          }),
        );
        return;
      }
      if (req.method === 'POST' && url.endsWith('/responses')) {
        requests++;
        const body = jsonBody(chunks);
        if (process.env.FAKE_LLM_TRACE)
          process.stderr.write(`fake LLM /responses ${JSON.stringify(body).slice(0, 3000)}\n`);
        const created_at = Math.floor(Date.now() / 1000);
        const model = body.model ?? 'fake';
        const usage = {
          input_tokens: 10,
          output_tokens: 3,
          total_tokens: 13,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens_details: { reasoning_tokens: 0 },
        };
        const item = {
          type: 'message',
          id: `msg_${requests}`,
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: answer, annotations: [] }],
        };
        const response = {
          id: `resp_${requests}`,
          object: 'response',
          created_at,
          status: 'completed',
          model,
          output: [item],
          usage,
        };
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          const ev = (type, data) =>
            `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
          res.write(
            ev('response.created', {
              response: { ...response, status: 'in_progress', output: [] },
            }),
          );
          res.write(
            ev('response.output_item.added', {
              output_index: 0,
              item: { ...item, status: 'in_progress', content: [] },
            }),
          );
          res.write(
            ev('response.output_text.delta', {
              item_id: item.id,
              output_index: 0,
              content_index: 0,
              delta: answer,
            }),
          );
          res.write(ev('response.output_item.done', { output_index: 0, item }));
          res.end(ev('response.completed', { response }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(response));
        return;
      }
      if (req.method !== 'POST' || !url.endsWith('/chat/completions')) {
        if (process.env.FAKE_LLM_TRACE) process.stderr.write(`fake LLM ${req.method} ${url}\n`);
        if (req.method === 'POST' && url.endsWith('/embeddings')) {
          embeddings++;
          const body = jsonBody(chunks);
          const inputs = Array.isArray(body.input) ? body.input : [body.input];
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              object: 'list',
              data: inputs.map((_, index) => ({
                object: 'embedding',
                index,
                embedding: new Array(body.dimensions ?? 1536).fill(0.01),
              })),
              model: body.model ?? 'fake',
              usage: { prompt_tokens: 1, total_tokens: 1 },
            }),
          );
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `fake LLM: no ${req.method} ${url}` } }));
        return;
      }
      requests++;
      const body = jsonBody(chunks);
      if (process.env.FAKE_LLM_TRACE)
        process.stderr.write(`fake LLM /chat/completions ${JSON.stringify(body).slice(0, 3000)}\n`);
      const id = `chatcmpl-${requests}`;
      const created = Math.floor(Date.now() / 1000);
      const model = body.model ?? 'fake';
      const usage = { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 };
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const chunk = (delta, finish_reason = null, extra = {}) =>
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`;
        res.write(chunk({ role: 'assistant', content: '' }));
        res.write(chunk({ content: answer }));
        res.write(chunk({}, 'stop', body.stream_options?.include_usage ? { usage } : {}));
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [
            { index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' },
          ],
          usage,
        }),
      );
    });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/v1`,
        get requests() {
          return requests;
        },
        get embeddings() {
          return embeddings;
        },
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

// In a process of its own (bench.mjs forks it, so its CPU is not counted as any contender's):
// reports its URL, answers `count` with the requests answered so far.
if (import.meta.url === `file://${process.argv[1]}`) {
  const llm = await startFakeLlm({ port: Number(process.argv[2] ?? 0) });
  if (process.send) {
    process.on('message', (m) => {
      if (m?.type === 'count')
        process.send({
          type: 'count',
          id: m.id,
          requests: llm.requests,
          embeddings: llm.embeddings,
        });
      else if (m?.type === 'close') llm.close().then(() => process.exit(0));
    });
    process.send({ type: 'ready', url: llm.url });
  } else {
    console.log(llm.url);
  }
}

/** A request's body as JSON, or `{}` when it is not (the fake answers whatever it is asked). */
function jsonBody(chunks) {
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) ?? {};
  } catch {
    return {};
  }
}
