/**
 * Named stages that order the taps of one hook (tapable's `stage`): a lower
 * stage runs first, and taps of one stage run in the order plugins were listed.
 * Plugins name a stage; a bare number says nothing about why.
 */
export const Stage = Object.freeze({
  /** Work the other taps of the hook rely on: the checkpoint plugin's last save in `done`, before loggers close. */
  FIRST: -100,
  /** Where a tap goes when it names no stage. */
  DEFAULT: 0,
  /**
   * After every ordinary tap: a checkpoint taken here holds every plugin's state as of
   * the step it covers, whatever the order in which plugins were listed.
   */
  SNAPSHOT: 100,
  /** Reads what the whole hook did: the compare plugin ranks a finished run in `done`. */
  LAST: 200,
});

export type StageName = keyof typeof Stage;
