import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_BASE_URL = 'https://api.wandb.ai';

export interface NetrcEntry {
  login?: string;
  password?: string;
  account?: string;
}

/**
 * Parse a .netrc file: `machine NAME`, `default`, `login`, `password`, `account`,
 * `macdef` (skipped up to the next empty line), comments from `#`, tokens in
 * double quotes with backslash escapes (as Python's netrc reads them).
 */
export function parseNetrc(text: string): { machines: Map<string, NetrcEntry>; default: NetrcEntry | undefined } {
  const machines = new Map<string, NetrcEntry>();
  let fallback: NetrcEntry | undefined;
  let current: NetrcEntry | undefined;
  let i = 0;
  const next = (): string | undefined => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (i >= text.length) return undefined;
      if (text[i] === '#') {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      break;
    }
    let token = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        token += text[i++];
      }
      i++;
      return token;
    }
    while (i < text.length && !/\s/.test(text[i]!)) {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      token += text[i++];
    }
    return token;
  };
  for (let token = next(); token !== undefined; token = next()) {
    switch (token) {
      case 'machine': {
        const name = next();
        if (name === undefined) return { machines, default: fallback };
        current = {};
        if (!machines.has(name)) machines.set(name, current); // the first entry for a machine wins, as in Python and curl
        break;
      }
      case 'default':
        current = {};
        fallback ??= current;
        break;
      case 'login':
      case 'password':
      case 'account': {
        const value = next();
        if (current && value !== undefined) current[token] = value;
        break;
      }
      case 'macdef': {
        // the macro's body runs to the next empty line
        const end = text.indexOf('\n\n', i);
        i = end === -1 ? text.length : end + 2;
        break;
      }
      default:
        break; // unknown token: ignore it, as other readers do
    }
  }
  return { machines, default: fallback };
}

/** The host part of a base URL, which is how W&B's tools name the server in .netrc. */
export function netrcHost(baseUrl: string): string {
  return new URL(baseUrl).hostname;
}

export function netrcPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NETRC) return env.NETRC;
  return join(env.HOME || homedir(), '.netrc');
}

/**
 * The API key: WANDB_API_KEY, else the password of the base URL's host in ~/.netrc
 * (what `wandb login` writes). Undefined when there is none; never thrown or printed.
 */
export function findApiKey(baseUrl: string, env: NodeJS.ProcessEnv = process.env): { key: string; source: string } | undefined {
  const fromEnv = env.WANDB_API_KEY?.trim();
  if (fromEnv) return { key: fromEnv, source: 'WANDB_API_KEY' };
  const path = netrcPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const host = netrcHost(baseUrl);
  const parsed = parseNetrc(text);
  const entry = parsed.machines.get(host) ?? parsed.default;
  return entry?.password ? { key: entry.password, source: path } : undefined;
}

/** Replace every occurrence of the key in a message, in case a server echoes it. */
export function scrub(message: string, key: string | undefined): string {
  return key ? message.split(key).join('[redacted]') : message;
}
