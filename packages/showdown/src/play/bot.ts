/**
 * A Showdown client bot: connects over the server's websocket, logs in, then accepts
 * challenges, challenges a user or searches for battles, and plays each battle with a
 * Chooser (see session.ts). Every battle it starts ends up in the results file, as a win,
 * loss, tie or, when the connection drops first, aborted; it then reconnects with backoff.
 */
import WebSocket from 'ws';
import { UserError } from '@poke/core';
import { BattleSession } from './session.js';
import type { Chooser, Outcome } from './session.js';
import { logName, recordBattle } from './results.js';
import type { ResultLine } from './results.js';
import { parseFrame, splitLine, toId } from './protocol.js';
import { login } from './login.js';
import { formatProblem } from '../formats.js';
import { websocketUrl } from './address.js';

export type PlayMode =
  | { kind: 'accept'; from?: string[]; battles?: number }
  | { kind: 'challenge'; user: string; battles: number }
  | { kind: 'search'; battles: number };

export interface PlayOptions {
  /** ws:// or wss:// URL of the server's websocket (`/showdown/websocket` is added to a bare host). */
  server: string;
  name: string;
  /** With a password the bot logs in through the login server; without, by name alone (servers without authentication). */
  password?: string;
  loginServer?: string;
  mode: PlayMode;
  format: string;
  maxConcurrent: number;
  /** Turn the battle timer on in every battle. */
  timer?: boolean;
  /** Where each battle's log and results.jsonl go. */
  outDir: string;
  choose: Chooser;
  /** First reconnect delay, doubled on each failure up to maxBackoffMs. @default 500 */
  backoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
  /**
   * Reconnects in a row, with no login between them, before the bot gives up and `done` rejects.
   * @default Infinity (a bot stays until stopped)
   */
  maxReconnects?: number;
  onEvent?: (event: PlayEvent) => void;
}

export type PlayEvent =
  | { type: 'connected'; url: string }
  | { type: 'logged-in'; name: string }
  | { type: 'battle-start'; room: string }
  | { type: 'battle-end'; line: ResultLine }
  | { type: 'disconnected'; retryMs: number }
  | { type: 'refused'; message: string }
  | { type: 'stopping'; running: number; forfeit: boolean };

export interface PlaySummary {
  battles: number;
  wins: number;
  losses: number;
  ties: number;
  aborted: number;
  rejected: number;
  malformed: number;
  reconnects: number;
}

/** How long a stop waits for a battle its cancelled challenge or search may still start. */
const STOP_GRACE_MS = 3000;

/** Whether `--accept` takes a challenge: from a user it lists (or anyone), in a format `--format` would take. */
export function acceptable(user: string, format: string, from?: readonly string[]): boolean {
  return (!from || from.map(toId).includes(toId(user))) && !formatProblem(format);
}

export class Bot {
  private ws: WebSocket | undefined;
  private readonly sessions = new Map<string, { session: BattleSession; startedAt: number }>();
  /** Rooms recorded as aborted: if the server brings one back after a reconnect, we forfeit it. */
  private readonly abandoned = new Set<string>();
  private readonly challenges = new Map<string, string>();
  private loggedIn = false;
  private challenging = false;
  private searching = false;
  private stopping = false;
  private closedByUs = false;
  private started = 0;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly summary: PlaySummary = { battles: 0, wins: 0, losses: 0, ties: 0, aborted: 0, rejected: 0, malformed: 0, reconnects: 0 };
  private resolveDone!: (summary: PlaySummary) => void;
  private rejectDone!: (err: Error) => void;
  readonly done: Promise<PlaySummary>;

  constructor(private readonly options: PlayOptions) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** Connect and play until the mode's battles are done or stop() is called; `done` resolves then. */
  start(): Promise<PlaySummary> {
    this.connect();
    return this.done;
  }

  /** Take no new battles; finish the running ones, or forfeit them. */
  stop(forfeit = false): void {
    if (!this.stopping) this.options.onEvent?.({ type: 'stopping', running: this.sessions.size, forfeit });
    this.stopping = true;
    if (this.searching) this.sendGlobal(`/cancelsearch`);
    if (this.challenging && this.options.mode.kind === 'challenge') this.sendGlobal(`/cancelchallenge ${this.options.mode.user}`);
    for (const user of this.challenges.keys()) this.sendGlobal(`/reject ${user}`);
    if (forfeit) for (const room of this.sessions.keys()) this.sendRoom(room, '/forfeit');
    if (!this.loggedIn) clearTimeout(this.retry);
    if (this.challenging || this.searching) {
      // The cancel may cross an accept or a match already on its way: stay a moment for a battle that
      // starts anyway (it is forfeited at once), rather than leave its opponent waiting on an empty seat.
      setTimeout(() => {
        this.challenging = false;
        this.searching = false;
        this.finishIfDone();
      }, STOP_GRACE_MS).unref();
    }
    this.finishIfDone();
  }

  private get url(): string {
    return websocketUrl(this.options.server);
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.on('open', () => this.options.onEvent?.({ type: 'connected', url: this.url }));
    ws.on('message', (data) => this.receive(data.toString()));
    // 'close' follows every error; the error itself needs a listener or it would be thrown.
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.ws === ws) this.dropped();
    });
  }

  private receive(data: string): void {
    const frame = parseFrame(data);
    if (frame.room.startsWith('battle-')) this.battleFrame(frame.room, frame.lines);
    else for (const line of frame.lines) this.globalLine(line);
  }

  private globalLine(line: string): void {
    const { type, args } = splitLine(line);
    switch (type) {
      case 'challstr':
        void this.login(args.join('|'));
        break;
      case 'updateuser':
        if (toId(args[0] ?? '') === toId(this.options.name) && args[1] === '1' && !this.loggedIn) {
          this.loggedIn = true;
          this.attempt = 0;
          this.options.onEvent?.({ type: 'logged-in', name: this.options.name });
          this.sendGlobal('/utm null');
          this.pump();
        }
        break;
      case 'nametaken':
        this.fail(new UserError(`the server refused the name ${this.options.name}: ${args.slice(1).join('|') || args[0]}`, 'choose another --name, or log in with --password-env'));
        break;
      case 'pm':
        this.challengeMessage(args[0] ?? '', args[1] ?? '', args.slice(2).join('|'));
        break;
      case 'updatesearch':
        this.searchUpdate(args.join('|'));
        break;
      case 'popup':
        // A challenge or search that failed (user offline, not accepted): try again on the next pump.
        if ((this.challenging || this.searching) && !this.stopping) {
          this.options.onEvent?.({ type: 'refused', message: args.join('|').slice(0, 200) });
          this.challenging = false;
          this.searching = false;
          this.later(() => this.pump());
        }
        break;
    }
  }

  private async login(challstr: string): Promise<void> {
    try {
      const assertion = this.options.password ? await login(this.options.loginServer, this.options.name, this.options.password, challstr) : undefined;
      this.sendGlobal(assertion ? `/trn ${this.options.name},0,${assertion}` : `/trn ${this.options.name}`);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** `|pm|FROM|TO|/challenge FORMAT|…`: a challenge to us, or the state of ours (an empty `/challenge` clears it). */
  private challengeMessage(from: string, to: string, message: string): void {
    if (!message.startsWith('/challenge')) return;
    const format = message.slice('/challenge'.length).trim().split('|')[0] ?? '';
    const me = toId(this.options.name);
    if (toId(to) === me && toId(from) !== me) {
      if (format) this.challenges.set(toId(from), format);
      else this.challenges.delete(toId(from));
      this.pump();
    } else if (toId(from) === me && !format && this.challenging && !this.stopping) {
      // Our challenge is gone without a battle starting (refused or expired): challenge again.
      this.challenging = false;
      this.later(() => this.pump());
    }
  }

  private searchUpdate(json: string): void {
    try {
      const state = JSON.parse(json) as { searching?: string[] };
      // While stopping, only a battle or the grace period ends a cancelled search (see stop()).
      if (!this.stopping) this.searching = Array.isArray(state.searching) && state.searching.length > 0;
    } catch {
      this.summary.malformed++;
    }
  }

  /** Start what the mode asks for, within the concurrency limit. */
  private pump(): void {
    if (!this.loggedIn || this.stopping) return;
    const { mode, maxConcurrent, format } = this.options;
    const limit = mode.battles ?? Infinity;
    const room = () => this.sessions.size < maxConcurrent && this.started < limit;
    if (mode.kind === 'accept') {
      for (const [user, wanted] of [...this.challenges]) {
        if (!acceptable(user, wanted, mode.from)) {
          this.sendGlobal(`/reject ${user}`);
          this.challenges.delete(user);
        } else if (room()) {
          this.sendGlobal(`/accept ${user}`);
          this.challenges.delete(user);
          this.started++;
        }
      }
    } else if (!this.challenging && !this.searching && room()) {
      if (mode.kind === 'challenge') {
        this.challenging = true;
        this.sendGlobal(`/challenge ${mode.user}, ${format}`);
      } else {
        this.searching = true;
        this.sendGlobal(`/search ${format}`);
      }
    }
  }

  private battleFrame(room: string, lines: string[]): void {
    let entry = this.sessions.get(room);
    if (!entry) {
      if (!lines.some((l) => l.startsWith('|init|battle'))) return;
      // Brought back after a reconnect (its history replayed at once): already recorded as aborted.
      if (this.abandoned.has(room) && lines.some((l) => l === '|start' || l.startsWith('|start|'))) {
        this.sendRoom(room, '/forfeit');
        this.sendGlobal(`/leave ${room}`);
        return;
      }
      this.abandoned.delete(room);
      entry = { session: new BattleSession(room, this.options.name, this.options.choose, (m) => this.sendRoom(room, m)), startedAt: Date.now() };
      this.sessions.set(room, entry);
      if (this.options.mode.kind !== 'accept') this.started++;
      this.challenging = false;
      this.searching = false;
      this.options.onEvent?.({ type: 'battle-start', room });
      // Started after a stop (a challenge or search that was on its way): not taken.
      if (this.stopping) this.sendRoom(room, '/forfeit');
      else if (this.options.timer) this.sendRoom(room, '/timer on');
      this.pump();
    }
    entry.session.receive(lines);
    if (entry.session.ended) {
      this.sendGlobal(`/leave ${room}`);
      this.record(room);
      this.pump();
    }
  }

  /** Write the battle's log and result line, and forget it. */
  private record(room: string): void {
    const entry = this.sessions.get(room)!;
    this.sessions.delete(room);
    const { session, startedAt } = entry;
    const end = session.ended ?? session.abort();
    this.count(end.result);
    this.summary.rejected += session.rejected;
    this.summary.malformed += session.malformed;
    const line = { battle: room, log: logName(room, startedAt), opponent: end.opponent, result: end.result, turns: end.turns, rejected: session.rejected, malformed: session.malformed, decisions: session.decisions };
    const text = session.text();
    this.writes = this.writes.then(() => recordBattle(this.options.outDir, line, text)).then(
      (full) => this.options.onEvent?.({ type: 'battle-end', line: full }),
      (err: Error) => this.fail(err),
    );
    this.finishIfDone();
  }

  private count(result: Outcome): void {
    this.summary.battles++;
    if (result === 'win') this.summary.wins++;
    else if (result === 'loss') this.summary.losses++;
    else if (result === 'tie') this.summary.ties++;
    else this.summary.aborted++;
  }

  private dropped(): void {
    this.ws = undefined;
    this.loggedIn = false;
    this.challenging = false;
    this.searching = false;
    this.challenges.clear();
    for (const room of [...this.sessions.keys()]) {
      this.sessions.get(room)!.session.abort();
      this.abandoned.add(room);
      this.record(room);
    }
    if (this.closedByUs || this.stopping) {
      this.finishIfDone();
      return;
    }
    const limit = this.options.maxReconnects ?? Infinity;
    if (this.attempt >= limit) {
      const times = limit === 0 ? '(--reconnects 0)' : `${limit + 1} times in a row with no login in between`;
      this.fail(new UserError(`the connection to ${this.url} failed ${times}; giving up`, 'is a Showdown server running at --server? --reconnects sets how many times to try again'));
      return;
    }
    const retryMs = Math.min(this.options.maxBackoffMs ?? 30_000, (this.options.backoffMs ?? 500) * 2 ** this.attempt++);
    this.options.onEvent?.({ type: 'disconnected', retryMs });
    this.summary.reconnects++;
    this.retry = setTimeout(() => {
      if (!this.stopping) this.connect();
    }, retryMs);
  }

  private finished(): boolean {
    const limit = this.options.mode.battles;
    const allPlayed = limit !== undefined && this.summary.battles >= limit;
    const mayStillStart = this.stopping && (this.challenging || this.searching) && this.ws?.readyState === WebSocket.OPEN;
    return this.sessions.size === 0 && !mayStillStart && (this.stopping || allPlayed);
  }

  private finishIfDone(): void {
    if (!this.finished()) return;
    this.closedByUs = true;
    clearTimeout(this.retry);
    this.ws?.close();
    void this.writes.then(() => this.resolveDone({ ...this.summary }));
  }

  private fail(err: Error): void {
    this.closedByUs = true;
    clearTimeout(this.retry);
    this.ws?.close();
    // After the battles already recorded are on disk: the CLI exits as soon as `done` settles.
    void this.writes.then(() => this.rejectDone(err));
  }

  private later(fn: () => void): void {
    // A short pause before retrying a refused challenge or search, so a refusing peer is not flooded.
    setTimeout(fn, 1000).unref();
  }

  private sendGlobal(command: string): void {
    this.send(`|${command}`);
  }

  private sendRoom(room: string, command: string): void {
    this.send(`${room}|${command}`);
  }

  private send(message: string): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(message);
  }
}
