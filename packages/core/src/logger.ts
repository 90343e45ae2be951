/** Where the trainer and plugins report. The CLI prints to stderr; a program may pass its own. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export const consoleLogger: Logger = {
  info: (message) => console.error(message),
  warn: (message) => console.error(`warning: ${message}`),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {} };
