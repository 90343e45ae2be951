/**
 * Login with a password: the server's `|challstr|` is signed by the login server
 * (`action.php`, act=login), and the assertion it returns is sent with `/trn`. Servers
 * without authentication take a name alone and never get here.
 */
import { UserError } from '@poke/core';

export const DEFAULT_LOGIN_SERVER = 'https://play.pokemonshowdown.com/action.php';

export async function login(loginServer: string | undefined, name: string, password: string, challstr: string): Promise<string> {
  const url = loginServer ?? DEFAULT_LOGIN_SERVER;
  const body = new URLSearchParams({ act: 'login', name, pass: password, challstr });
  let text: string;
  try {
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    text = await response.text();
  } catch (err) {
    throw new UserError(`cannot reach the login server ${url}: ${(err as Error).message}`, 'check --login-server, or play on a server without authentication by name alone');
  }
  // The answer is "]" followed by JSON.
  let assertion: unknown;
  try {
    assertion = (JSON.parse(text.replace(/^\]/, '')) as { assertion?: unknown }).assertion;
  } catch {
    throw new UserError(`the login server ${url} did not answer with JSON`);
  }
  if (typeof assertion !== 'string' || !assertion || assertion.startsWith(';')) {
    throw new UserError(`the login server refused ${name}${typeof assertion === 'string' && assertion ? `: ${assertion.replace(/^;+/, '')}` : ''}`);
  }
  return assertion;
}
