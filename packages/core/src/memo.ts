/**
 * The results of a pure function for keys seen before, at most `max` of them: when full it is
 * emptied whole (cheaper than tracking use, and the working sets it serves are small: flag and
 * env names, versions, short texts of one scan).
 */
export class BoundedMemo<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  /** `compute` is given the key, so a hot caller can pass a plain function instead of a new closure per call. */
  get(key: K, compute: (key: K) => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined || this.map.has(key)) return hit as V;
    const value = compute(key);
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }
}
