/**
 * One battle as a player on a server sees it: the room's lines go into a PlayerView (the
 * same view, encoder and mask as training) and each request is answered once the lines it
 * belongs to have been applied. Servers of today send a request after the turn's lines;
 * older ones sent it before them, so a request that arrives with no battle line since our
 * last choice waits for the lines that follow. The player log is kept in the format
 * `poke data import` reads (the battle's lines, each `|request|` after the lines it followed).
 */
import { ACTION_COUNT, choiceOf, maskFromRequest, needsDecision } from '../actions.js';
import type { SimRequest } from '../actions.js';
import { PlayerView, channelLines } from '../encoder/view.js';
import type { SideID } from '../encoder/view.js';
import { isWellFormed, parseRequest, splitLine, toId } from './protocol.js';

/**
 * Chooses an action for the view's current request; `mask` holds the legal ones. It reads
 * the view before it returns (the view moves on with the battle's next lines); a promise
 * lets it answer later, e.g. together with other battles' decisions in one forward pass.
 */
export type Chooser = (view: PlayerView, mask: Uint8Array) => number | Promise<number>;

export type Outcome = 'win' | 'loss' | 'tie' | 'aborted';

export interface SessionEnd {
  result: Outcome;
  turns: number;
  opponent: string;
}

/** Lines that belong to the room, not to the battle: kept out of the view and the log. */
const ROOM_ONLY = new Set(['init', 'title', 'j', 'J', 'l', 'L', 'n', 'N', 'c', 'c:', 'chat', 'raw', 'html', 'uhtml', 'uhtmlchange', 'inactive', 'inactiveoff', 'error', 'bigerror', 'deinit', 'noinit', 'expire', 'timer', 'notify', 'hidelines', 'unlink', 'badge', 'join', 'leave', 'name', 'tempnotify', 'tempnotifyoff', '']);

export class BattleSession {
  /** Lines skipped because they could not be read or followed. */
  malformed = 0;
  /** Choices the server refused, each answered with another legal one. */
  rejected = 0;
  /** Decisions made. */
  decisions = 0;
  turns = 0;
  ended: SessionEnd | undefined;
  readonly log: string[] = [];
  private view: PlayerView | undefined;
  private side: SideID | undefined;
  private readonly names: Partial<Record<SideID, string>> = {};
  private readonly early: string[] = [];
  private pending: SimRequest | undefined;
  /** The pending request can be answered: the lines it belongs to are in the view. */
  private ready = false;
  /** Battle lines arrived since our last choice. */
  private linesSinceChoice = false;
  private started = false;
  /** The last request answered, its mask and the actions tried for it (for a fallback when refused). */
  private answered: { request: SimRequest; mask: Uint8Array; tried: Set<number> } | undefined;
  /** After a refused choice the server sends the request again: answer it at once. */
  private answerNextRequest = false;

  constructor(
    readonly room: string,
    private readonly me: string,
    private readonly choose: Chooser,
    private readonly send: (message: string) => void,
  ) {}

  /** The lines of one message for this room. Never throws: what cannot be read is counted in `malformed`. */
  receive(lines: readonly string[]): void {
    if (this.ended) return;
    for (const raw of lines) {
      if (this.ended) break;
      if (!isWellFormed(raw)) {
        this.malformed++;
        continue;
      }
      const { type, args } = splitLine(raw);
      if (type === 'request') {
        const request = parseRequest(args.join('|'));
        if (request instanceof Error || (request && this.side && request.side.id !== this.side)) {
          this.malformed++;
          continue;
        }
        if (!request) continue;
        this.setSide(request.side.id);
        if (!needsDecision(request)) {
          this.log.push(`|request|${JSON.stringify(request)}`);
          continue;
        }
        // A request still waiting for its lines when the next one comes is answered first (it is not superseded).
        if (this.pending && this.ready) this.answer();
        this.pending = request;
        this.ready = (this.linesSinceChoice && this.started) || this.answerNextRequest;
        this.answerNextRequest = false;
        if (this.ready) this.answer();
      } else if (type === 'error') {
        this.refused(args.join('|'));
      } else if (type === 'inactive') {
        // The timer is running and we still owe a choice: the lines we waited for are not coming.
        if (this.pending && args.join('|').includes(this.me)) this.ready = true;
      } else if (type === 't:' || ROOM_ONLY.has(type)) {
        continue;
      } else if (type === 'split') {
        continue;
      } else {
        this.battleLine(raw, type, args);
        this.linesSinceChoice = true;
        if (this.pending && this.started) this.ready = true;
      }
    }
    if (this.pending && this.ready && !this.ended) this.answer();
  }

  /** The battle ends without a result line from the server (the connection dropped, or we stop). */
  abort(): SessionEnd {
    this.ended ??= { result: 'aborted', turns: this.turns, opponent: this.opponent() };
    return this.ended;
  }

  opponent(): string {
    const foe = this.side === 'p1' ? 'p2' : this.side === 'p2' ? 'p1' : undefined;
    if (foe && this.names[foe]) return this.names[foe]!;
    return Object.values(this.names).find((n) => toId(n) !== toId(this.me)) ?? '';
  }

  /** The player log, as `poke data import` reads it. */
  text(): string {
    return this.log.join('\n') + '\n';
  }

  private setSide(side: SideID): void {
    if (this.side) return;
    this.side = side;
    this.view = new PlayerView(side);
    this.apply(this.early.splice(0));
  }

  private battleLine(raw: string, type: string, args: string[]): void {
    if (type === 'player' && (args[0] === 'p1' || args[0] === 'p2') && args[1]) {
      this.names[args[0]] = args[1];
      if (toId(args[1]) === toId(this.me)) this.setSide(args[0]);
    }
    if (type === 'start') this.started = true;
    if (type === 'turn') {
      const turn = Number(args[0]);
      if (Number.isInteger(turn) && turn >= 0) this.turns = turn;
    }
    const lines = this.side ? channelLines([raw], this.side) : [raw];
    this.log.push(...lines);
    if (this.view) this.apply(lines);
    else this.early.push(...lines);
    if (type === 'win') this.finish(toId(args[0] ?? '') === toId(this.me) ? 'win' : 'loss');
    else if (type === 'tie') this.finish('tie');
  }

  private apply(lines: string[]): void {
    for (const line of lines) {
      try {
        this.view!.addLines([line]);
      } catch {
        this.malformed++;
      }
    }
  }

  private finish(result: Outcome): void {
    this.ended = { result, turns: this.turns, opponent: this.opponent() };
  }

  private answer(): void {
    const request = this.pending!;
    this.pending = undefined;
    this.ready = false;
    this.linesSinceChoice = false;
    this.log.push(`|request|${JSON.stringify(request)}`);
    if (!this.view) return;
    this.view.request = request;
    const mask = maskFromRequest(request, new Uint8Array(ACTION_COUNT));
    let chosen: number | Promise<number>;
    try {
      chosen = this.choose(this.view, mask);
    } catch {
      chosen = -1;
      this.malformed++;
    }
    if (typeof chosen === 'number') this.decide(request, mask, chosen);
    else {
      chosen.then(
        (action) => this.decide(request, mask, action),
        () => {
          this.malformed++;
          this.decide(request, mask, -1);
        },
      );
    }
  }

  /** Send the chosen action; one the chooser could not give (-1, or not legal: the encoder could not read this state) becomes the first legal one, so the battle never stalls. */
  private decide(request: SimRequest, mask: Uint8Array, chosen: number): void {
    if (this.ended) return;
    const action = chosen >= 0 && mask[chosen] ? chosen : mask.indexOf(1);
    this.answered = { request, mask, tried: new Set([action]) };
    this.decisions++;
    this.sendChoice(request, action);
  }

  private sendChoice(request: SimRequest, action: number): void {
    const choice = action >= 0 ? choiceOf(action) : 'default';
    this.send(`/choose ${choice}${request.rqid !== undefined ? `|${request.rqid}` : ''}`);
  }

  /** `|error|[Invalid choice] …` or `[Unavailable choice] …`: try another legal action, or wait for the new request. */
  private refused(message: string): void {
    if (!message.startsWith('[Invalid choice]') && !message.startsWith('[Unavailable choice]')) return;
    this.rejected++;
    if (message.startsWith('[Unavailable choice]') || !this.answered) {
      // The server re-sends the request with what it just revealed (a trap, a disabled move).
      this.answerNextRequest = true;
      return;
    }
    const { request, mask, tried } = this.answered;
    let next = -1;
    for (let a = 0; a < mask.length; a++) if (mask[a] && !tried.has(a)) {
      next = a;
      break;
    }
    tried.add(next);
    this.sendChoice(request, next);
  }
}
