import { expect } from 'chai';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Bot, RESULTS_FILE } from '@poke/showdown';
import type { PlayEvent } from '@poke/showdown';
import { tempDir } from '../../core/test/helpers.js';

/** A server on 127.0.0.1 that answers each connection with `onConnection`; its port and a way to close it. */
async function loginServer(onConnection: (socket: import('ws').WebSocket) => void): Promise<{ port: number; close: () => void }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  server.on('connection', onConnection);
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** Sends the challenge string, and on the bot's `/trn` logs it in and calls `then`. */
function logIn(socket: import('ws').WebSocket, then: () => void): void {
  socket.send('|challstr|4|abc');
  socket.on('message', (data) => {
    if (!String(data).startsWith('|/trn ')) return;
    socket.send('|updateuser| poke-bot|1|1|{}');
    then();
  });
}

/**
 * A stand-in for the server's login step only (`|challstr|`, `/trn`, `|updateuser|`), so that a
 * login followed by a dropped connection can be made on purpose: a real server drops no one.
 */
describe('Bot: reconnecting to a server', () => {
  it('gives up after maxReconnects failed connections in a row; a login in between resets the count', async () => {
    let logins = 0;
    // The first three connections log the bot in and then drop it; every later one is dropped at once.
    const server = await loginServer((socket) => {
      if (logins >= 3) return socket.close();
      logIn(socket, () => {
        logins++;
        socket.close();
      });
    });
    const events: PlayEvent['type'][] = [];
    const bot = new Bot({
      server: `ws://127.0.0.1:${server.port}`, name: 'poke-bot', mode: { kind: 'accept' }, format: 'gen9randombattle', maxConcurrent: 1,
      outDir: await tempDir('bot-reconnect'), choose: () => 0, backoffMs: 1, maxBackoffMs: 1, maxReconnects: 1,
      onEvent: (event) => events.push(event.type),
    });
    try {
      const err = await bot.start().then(() => undefined, (e: unknown) => e as Error);
      // Three drops after a login, each followed by a reconnect: with the count not reset, the second would have been the last.
      expect(events.filter((e) => e === 'logged-in')).to.have.length(3);
      expect(events.filter((e) => e === 'disconnected')).to.have.length(3);
      expect(err?.message).to.equal(`the connection to ws://127.0.0.1:${server.port}/showdown/websocket failed 2 times in a row with no login in between; giving up`);
    } finally {
      server.close();
    }
  });

  it('a battle cut by the connection it gives up on is recorded aborted before the bot says so', async () => {
    const server = await loginServer((socket) =>
      logIn(socket, () => {
        socket.send('>battle-gen9randombattle-1\n|init|battle\n|title|poke-bot vs. someone');
        socket.close();
      }),
    );
    const outDir = await tempDir('bot-gives-up');
    const bot = new Bot({
      server: `ws://127.0.0.1:${server.port}`, name: 'poke-bot', mode: { kind: 'accept' }, format: 'gen9randombattle', maxConcurrent: 1,
      outDir, choose: () => 0, maxReconnects: 0,
    });
    try {
      const err = await bot.start().then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).to.match(/failed \(--reconnects 0\); giving up$/);
      // Read at once: the CLI exits as soon as the bot gives up.
      const lines = readFileSync(join(outDir, RESULTS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { battle: string; result: string });
      expect(lines.map((l) => [l.battle, l.result])).to.deep.equal([['battle-gen9randombattle-1', 'aborted']]);
    } finally {
      server.close();
    }
  });
});
