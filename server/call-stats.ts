/**
 * Upper bounds of the call-duration buckets, in seconds: from 100 µs (a
 * session call on loopback) to a minute (a long computation).
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** gRPC status codes run from 0 (OK) to 16. */
const CODES = 17;

/**
 * What a node has seen of one method: calls by outcome code and how long
 * they took, as counts per duration bucket. Recording is a few array
 * increments, cheap enough for every entry of a million-item map; metrics,
 * Node.Stats and the dashboard read the counts when asked.
 */
export class MethodStats {
  readonly object: string;
  readonly method: string;
  /** Calls answered, by gRPC status code. */
  readonly codes: number[] = new Array<number>(CODES).fill(0);
  /** Calls per duration bucket (not cumulative); the last is past the largest bound. */
  readonly buckets: number[] = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  /** Seconds all calls took together. */
  seconds = 0;

  constructor(object: string, method: string) {
    this.object = object;
    this.method = method;
  }

  /** Notes `count` calls that ended with `code` after `seconds` each. */
  record(code: number, seconds: number, count = 1): void {
    const at = code >= 0 && code < CODES ? code : 2;
    this.codes[at] = (this.codes[at] as number) + count;
    this.seconds += seconds * count;
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[b] as number)) b++;
    this.buckets[b] = (this.buckets[b] as number) + count;
  }

  /** Calls answered so far, whatever their outcome. */
  get calls(): number {
    let total = 0;
    for (const n of this.codes) total += n;
    return total;
  }

  /** Calls that did not end with OK. */
  get errors(): number {
    return this.calls - (this.codes[0] as number);
  }
}
