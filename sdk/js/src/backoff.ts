// Reconnect policy: exponential backoff with full jitter (delay drawn
// uniformly from [0, min(maxDelay, baseDelay · 2^(attempt−1))]), as in
// "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015): it spreads
// the reconnects of many clients that lost the same replica.

/** Reconnect settings; every field is optional. */
export interface ReconnectOptions {
  /** First delay cap in ms (default 500). */
  baseDelay?: number;
  /** Largest delay cap in ms (default 30,000). */
  maxDelay?: number;
  /** Attempts after one drop before giving up (default 10; Infinity for ever). */
  maxAttempts?: number;
  /**
   * Whether a close with this code and reason should be retried. Default:
   * every code except 1000 (normal), 1002, 1003, 1007, 1008, 1009, 1010
   * (failures that would repeat on a new socket).
   */
  shouldReconnect?: (code: number, reason: string) => boolean;
  /** Random source in [0, 1) (tests); default Math.random. */
  random?: () => number;
}

/** ReconnectOptions with defaults applied. */
export type ReconnectPolicy = Required<ReconnectOptions>;

const NO_RETRY = new Set([1000, 1002, 1003, 1007, 1008, 1009, 1010]);

/** Default shouldReconnect. */
export function defaultShouldReconnect(code: number): boolean {
  return !NO_RETRY.has(code);
}

/** Applies defaults; throws RangeError for nonsense values. */
export function reconnectPolicy(o: ReconnectOptions | boolean | undefined): ReconnectPolicy | undefined {
  if (o === undefined || o === false) return undefined;
  const r = o === true ? {} : o;
  const p: ReconnectPolicy = {
    baseDelay: r.baseDelay ?? 500,
    maxDelay: r.maxDelay ?? 30_000,
    maxAttempts: r.maxAttempts ?? 10,
    shouldReconnect: r.shouldReconnect ?? defaultShouldReconnect,
    random: r.random ?? Math.random,
  };
  if (!(p.baseDelay >= 0) || !(p.maxDelay >= p.baseDelay) || !(p.maxAttempts >= 1)) {
    throw new RangeError('socketx: reconnect needs 0 ≤ baseDelay ≤ maxDelay and maxAttempts ≥ 1');
  }
  return p;
}

/** The delay before attempt n (1-based). */
export function backoffDelay(p: Pick<ReconnectPolicy, 'baseDelay' | 'maxDelay' | 'random'>, attempt: number): number {
  const cap = Math.min(p.maxDelay, p.baseDelay * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(p.random() * cap);
}
