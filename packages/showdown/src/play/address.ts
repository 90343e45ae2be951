/** The websocket URL of a server given as ws://host:port (Showdown serves it under /showdown/websocket). */
export function websocketUrl(server: string): string {
  const url = new URL(server.includes('://') ? server : `ws://${server}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/showdown/websocket';
  return url.toString();
}
