// Passwords: bcrypt cost 12 behind a small work queue, a minimum length and a strength
// estimate (zxcvbn-ts with its common-password and English dictionaries).
import bcrypt from 'bcrypt';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { ApiError } from '../errors.js';
import { buildEstimator, TransientEstimator } from './strength.js';

export const BCRYPT_COST = 12;
export const MIN_PASSWORD_LENGTH = 12;
// bcrypt ignores bytes past 72; longer passwords are refused rather than silently cut
export const MAX_PASSWORD_BYTES = 72;
/** zxcvbn score (0..4) a password needs: 3 = "safely unguessable: moderate protection from offline slow-hash attacks" */
export const MIN_STRENGTH = 3;

/** The strength estimate reads this many characters (a strong start makes a strong password; it bounds the CPU per check). */
export const STRENGTH_SAMPLE = 40;

/** The estimator (its dictionaries are tens of MB: built when a password is checked, dropped a minute after the last check; strength.ts) */
export const passwordEstimator = new TransientEstimator(() => buildEstimator({ palisade: ['palisade', 'mcp', 'mcpserver', 'agent'] }, STRENGTH_SAMPLE));
function strength(): ZxcvbnFactory {
  return passwordEstimator.get();
}

/** Why a password is too weak, as a sentence saying what to change; null when it is fine. */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `The password is too weak: use at least ${MIN_PASSWORD_LENGTH} characters (a few random words work well).`;
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    return `The password is too long: use at most ${MAX_PASSWORD_BYTES} bytes.`;
  }
  const lower = password.toLowerCase();
  const local = email ? email.toLowerCase().split('@')[0]! : '';
  if (email && (lower === email.toLowerCase() || (local.length >= 6 && lower.includes(local)))) {
    return 'The password is too weak: it must not contain your email address.';
  }
  const inputs = email ? [email, ...email.split(/[@.]/)] : [];
  const r = strength().check(password, inputs);
  if (r.score < MIN_STRENGTH) {
    const why = r.feedback.warning ? ` ${r.feedback.warning}` : '';
    const tips = r.feedback.suggestions.length ? ` ${r.feedback.suggestions.join(' ')}` : '';
    return `The password is too weak: it would be guessed quickly.${why}${tips} Three or four unrelated words, or a password manager's random password, work well.`;
  }
  return null;
}

/**
 * The strength meter's reading (the sign-up, setup and invitation pages): zxcvbn's score
 * (0..4, 0 for a password refused before the estimate) and the refusal `passwordProblem`
 * gives, so the page shows exactly the server's verdict.
 */
export function passwordVerdict(password: string, email?: string): { score: number; acceptable: boolean; message: string | null } {
  const problem = passwordProblem(password, email);
  if (password.length < MIN_PASSWORD_LENGTH || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return { score: 0, acceptable: false, message: problem };
  const inputs = email ? [email, ...email.split(/[@.]/)] : [];
  const score = problem ? Math.min(strength().check(password, inputs).score, MIN_STRENGTH - 1) : Math.max(strength().check(password, inputs).score, MIN_STRENGTH);
  return { score, acceptable: problem === null, message: problem };
}

/**
 * bcrypt work runs through this queue: at most `concurrency` hashes or checks at once (each
 * takes a core for ~250 ms), at most `maxQueue` waiting; beyond that the caller gets 503 at
 * once instead of every sign-in slowing down together (50 parallel logins would otherwise
 * pin both cores and starve every other request).
 */
export class WorkQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(
    readonly concurrency = 2,
    readonly maxQueue = 16,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) throw new ApiError(503, 'busy', 'The server is busy checking passwords; wait a few seconds and try again.', { 'retry-after': '2' });
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

function queueFromEnv(env = process.env): WorkQueue {
  const n = (v: string | undefined, d: number) => (v && /^\d{1,4}$/.test(v) && Number(v) > 0 ? Number(v) : d);
  return new WorkQueue(n(env.PALISADE_BCRYPT_CONCURRENCY, 2), n(env.PALISADE_BCRYPT_QUEUE, 16));
}

export const passwordWork = queueFromEnv();

export function hashPassword(password: string): Promise<string> {
  return passwordWork.run(() => bcrypt.hash(password, BCRYPT_COST));
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return passwordWork.run(() => bcrypt.compare(password, hash));
}

let dummy: Promise<string> | undefined;
/** Spends the same time as a real check when the account does not exist. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= bcrypt.hash('palisade-dummy-password-for-timing', BCRYPT_COST);
  const d = await dummy;
  await passwordWork.run(() => bcrypt.compare(password, d));
  return false;
}
