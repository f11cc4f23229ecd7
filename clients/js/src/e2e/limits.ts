// The bounds on skipped message keys, shared by RatchetSession, SenderKeyReceiver and Kdf.skip.

/** The most message keys one message may make a chain skip. */
export const MAX_SKIP = 1000;

/** The most skipped message keys a session or receiver keeps for late messages; the oldest go first. */
export const MAX_SKIPPED_KEYS = 2000;
