/**
 * A log-bucketed latency histogram (≈2% relative precision from 1 µs up), small enough to send
 * over a pipe and mergeable across load-client processes, so percentiles cover every delivery
 * instead of a sample. The exact max is kept on the side.
 */
const GROWTH = 1.02;
const LOG_G = Math.log(GROWTH);
const MIN_MS = 0.001;

export class Histogram {
  constructor() {
    /** bucket index → count */
    this.counts = new Map();
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }

  record(ms) {
    const v = ms < MIN_MS ? MIN_MS : ms;
    const b = Math.floor(Math.log(v / MIN_MS) / LOG_G);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  toJSON() {
    return { counts: [...this.counts], n: this.n, max: this.max, sum: this.sum };
  }

  /** Adds a histogram (or its JSON) into this one. */
  merge(other) {
    const counts = other.counts instanceof Map ? other.counts : new Map(other.counts);
    for (const [b, c] of counts) this.counts.set(b, (this.counts.get(b) ?? 0) + c);
    this.n += other.n;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
    return this;
  }

  /** Value at quantile q (0..1): the upper edge of the bucket holding it, capped at the max. */
  quantile(q) {
    if (this.n === 0) return NaN;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b);
      if (seen >= rank) return Math.min(this.max, MIN_MS * GROWTH ** (b + 1));
    }
    return this.max;
  }

  summary() {
    return {
      n: this.n,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      max: this.max,
      mean: this.n ? this.sum / this.n : NaN,
    };
  }
}
