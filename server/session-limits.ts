import { DEFAULT_TIMEOUT_MS } from "../src/call-options.js";

/** Limits of one client session. */
export interface SessionLimits {
  /** Calls running at once in one session; past it a call fails with RESOURCE_EXHAUSTED. */
  maxCallsInFlight: number;
  /** Deadline of a call that sets none, in milliseconds. */
  defaultTimeoutMs: number;
  /** Longest deadline a call may ask for, in milliseconds. */
  maxTimeoutMs: number;
  /** Objects a session may hold by reference for its client; past it, RESOURCE_EXHAUSTED. */
  maxObjects: number;
}

/** Default session limits. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxCallsInFlight: 10_000,
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  maxTimeoutMs: 3_600_000,
  maxObjects: 100_000,
};
