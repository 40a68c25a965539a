// zxcvbn-ts (the password and JWT-secret strength estimates), loaded when an estimate is
// needed and let go when none was asked for a while. Its dictionaries, once decompressed,
// take about 40 MB of heap (the modules ~15 MB, each estimator ~13 MB), which `serve` would
// otherwise hold for its whole life to check a secret at start-up and a password at sign-up:
// issue 12 measured its RSS. The modules are loaded through a require of their own and
// removed from the module cache right after the estimator is built, so once the estimator is
// dropped nothing holds them and the garbage collector takes them back.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

type Core = typeof import('@zxcvbn-ts/core');
type Common = typeof import('@zxcvbn-ts/language-common');
type English = typeof import('@zxcvbn-ts/language-en');

const MODULE_DIR = `${path.sep}@zxcvbn-ts${path.sep}`;

/** Whether the zxcvbn modules are in the module cache now (tests). */
export function zxcvbnLoaded(): boolean {
  const cache = createRequire(import.meta.url).cache;
  return Object.keys(cache).some((k) => k.includes(MODULE_DIR));
}

/** A zxcvbn estimator with the common and English dictionaries and `extra` words; the modules are out of the cache when it returns. */
export function buildEstimator(extra: Record<string, string[]>, maxLength: number): ZxcvbnFactory {
  // a require of its own: its parent module (which lists what it loaded) is garbage afterwards
  const load = createRequire(import.meta.url);
  try {
    const core = load('@zxcvbn-ts/core') as Core;
    const common = load('@zxcvbn-ts/language-common') as Common;
    const en = load('@zxcvbn-ts/language-en') as English;
    return new core.ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary, ...extra },
      // bounded work per check: the estimate's cost grows fast with length and l33t variants
      l33tMaxSubstitutions: 4,
      maxLength,
    });
  } finally {
    // (require.cache is a plain object: deleting an entry is how a module is forgotten)
    for (const k of Object.keys(load.cache)) if (k.includes(MODULE_DIR)) Reflect.deleteProperty(load.cache, k);
  }
}

/** How long an estimator is kept after its last use (a sign-up page asks once per keystroke). */
export const ESTIMATOR_KEEP_MS = 60_000;

/** An estimator built on first use and dropped ESTIMATOR_KEEP_MS after its last. */
export class TransientEstimator {
  private current: ZxcvbnFactory | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly make: () => ZxcvbnFactory,
    private readonly keepMs = ESTIMATOR_KEEP_MS,
  ) {}

  get(): ZxcvbnFactory {
    this.current ??= this.make();
    if (this.timer) this.timer.refresh();
    else
      this.timer = setTimeout(() => {
        this.current = undefined;
        this.timer = undefined;
      }, this.keepMs).unref();
    return this.current;
  }

  /** Whether an estimator is held now (tests). */
  get held(): boolean {
    return this.current !== undefined;
  }
}
