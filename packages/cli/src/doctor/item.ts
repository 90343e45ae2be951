/** One line of `poke doctor`: a thing poke can use, whether it is there, and how to get it. */
export interface DoctorItem {
  /** Stable key for `--json` readers: `backend.tensorflow`, `python`, `cache.tfjs-node`, … */
  readonly name: string;
  /** Is it there and usable? A missing optional thing is not an error: doctor always exits 0. */
  readonly ok: boolean;
  /** What was found (version, path, size) or why it is missing, on one line. */
  readonly detail: string;
  /** The command that installs or enables it, when it is missing. */
  readonly fix?: string;
  /** Machine-readable facts behind `detail`, for `--json`. */
  readonly data?: Record<string, unknown>;
}

/** Collapse a message to one printable line (load errors can span several). */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
