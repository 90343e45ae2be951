/** The schemes a Showdown server's websocket is reached by (the `ws` client also takes http and https). */
const SCHEMES = ['ws:', 'wss:', 'http:', 'https:'];

/** A server address as a URL (a bare host:port is taken as ws://), or why it cannot be one. */
function parse(server: string): URL | string {
  const text = server.includes('://') ? server : `ws://${server}`;
  if (!URL.canParse(text)) return 'not a URL';
  const url = new URL(text);
  if (!SCHEMES.includes(url.protocol)) return `the scheme must be ${SCHEMES.map((s) => s.slice(0, -1)).join(', ')}, not ${url.protocol.slice(0, -1)}`;
  return url;
}

/** Why `server` cannot be a Showdown server's address, or undefined when it can. */
export function serverProblem(server: string): string | undefined {
  const url = parse(server);
  return typeof url === 'string' ? url : undefined;
}

/** The websocket URL of a server given as ws://host:port (Showdown serves it under /showdown/websocket). */
export function websocketUrl(server: string): string {
  const url = parse(server);
  if (typeof url === 'string') throw new TypeError(`${server}: ${url}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/showdown/websocket';
  return url.toString();
}
