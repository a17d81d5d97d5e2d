// The Telegram bench's fake Bot API server in a process of its own, as Telegram is never in the
// bot's process: the bot's CPU per update is then its own, and a bot that waits for each call
// waits for a real round trip. Driven over IPC by telegram.mjs: `ready` ({ url, token }) once
// listening; `drive` (see telegram-drive.mjs) answers `done` with the run's figures; `close` ends it.
import { FakeBotApi } from '@agentd/plugin-telegram/testing';
import { drive } from './telegram-drive.mjs';

const api = await FakeBotApi.start();
process.on('message', async (message) => {
  if (message.type === 'drive') {
    process.send({ type: 'done', result: await drive(api, message) });
  } else if (message.type === 'close') {
    await api.close();
    process.disconnect();
  }
});
process.send({ type: 'ready', url: api.url, token: api.token });
