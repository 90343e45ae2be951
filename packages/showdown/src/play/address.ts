/** The schemes a Showdown server's websocket is reached by (the `ws` client also takes http and https). */
const SCHEMES = ['ws:', 'wss:', 'http:', 'https:'];

/** A server address as a URL; a bare host:port is taken as ws://. */
function parse(server: string): URL | undefined {
  const text = server.includes('://') ? server : `ws://${server}`;
  return URL.canParse(text) ? new URL(text) : undefined;
}

/** Why `server` cannot be a Showdown server's address, or undefined when it can. */
export function serverProblem(server: string): string | undefined {
  const url = parse(server);
  if (!url) return 'not a URL';
  if (!SCHEMES.includes(url.protocol)) return `the scheme must be ${SCHEMES.map((s) => s.slice(0, -1)).join(', ')}, not ${url.protocol.slice(0, -1)}`;
  return undefined;
}

/** The websocket URL of a server given as ws://host:port (Showdown serves it under /showdown/websocket). */
export function websocketUrl(server: string): string {
  const problem = serverProblem(server);
  if (problem) throw new TypeError(`${server}: ${problem}`);
  const url = parse(server)!;
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/showdown/websocket';
  return url.toString();
}
