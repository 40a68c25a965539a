// A loose version order for picking the newest of several installed copies: dotted numbers
// compare numerically, a pre-release sorts before its release. Good enough for installed
// npm and PyPI versions; exact semantics live in core's advisory matching.
export function compareLoose(a: string, b: string): number {
  // a linear scan rather than a regular expression: version strings come from files on disk
  const split = (v: string): { nums: number[]; pre: string } => {
    const t = v.trim().replace(/^v/, '');
    const nums: number[] = [];
    let i = 0;
    while (i < t.length) {
      let j = i;
      while (j < t.length && t.charCodeAt(j) >= 48 && t.charCodeAt(j) <= 57) j++;
      if (j === i) break;
      nums.push(Number(t.slice(i, j)));
      i = j;
      if (t[i] === '.' && /\d/.test(t[i + 1] ?? '')) i++;
      else break;
    }
    return { nums, pre: t.slice(i).replace(/^[-+.]/, '') };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === '') return 1;
  if (y.pre === '') return -1;
  return x.pre < y.pre ? -1 : 1;
}

export function newest(versions: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (best === undefined || compareLoose(v, best) > 0) best = v;
  return best;
}

/** PEP 503 name normalisation, with '_' as dist-info file names use it. */
export function distInfoName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}
