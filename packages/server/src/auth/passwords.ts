// Passwords: bcrypt cost 12, a minimum length and a short list of passwords everyone tries.
import bcrypt from 'bcrypt';

export const BCRYPT_COST = 12;
export const MIN_PASSWORD_LENGTH = 12;
// bcrypt ignores bytes past 72; longer passwords are refused rather than silently cut
export const MAX_PASSWORD_BYTES = 72;

const COMMON = new Set([
  'password', 'password1', 'password12', 'password123', 'password1234', 'passw0rd', 'p@ssw0rd', 'p@ssword123',
  '123456789012', '1234567890', '12345678', 'qwertyuiop', 'qwertyuiop12', 'qwerty123456', '1q2w3e4r5t6y',
  'iloveyou1234', 'letmein12345', 'welcome12345', 'welcome@123', 'admin1234567', 'administrator', 'changeme1234',
  'changeme', 'trustno1', 'monkey123456', 'dragon123456', 'football1234', 'baseball1234', 'sunshine1234',
  'superman1234', 'princess1234', 'abc123456789', 'aaaaaaaaaaaa', 'correcthorsebatterystaple', 'palisade1234',
  'palisadepassword', 'mypassword12', 'secret123456', 'default12345', 'masterkey123',
]);

/** Why a password is too weak, as a sentence saying what to change; null when it is fine. */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `The password is too weak: use at least ${MIN_PASSWORD_LENGTH} characters (a few random words work well).`;
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    return `The password is too long: use at most ${MAX_PASSWORD_BYTES} bytes.`;
  }
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || /^(.)\1+$/.test(password) || /^(0123456789|1234567890|abcdefghij)/.test(lower)) {
    return 'The password is too weak: it is a well-known or repetitive password; choose something others would not guess.';
  }
  if (email && lower === email.toLowerCase()) {
    return 'The password is too weak: it must not be your email address.';
  }
  return null;
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

let dummy: Promise<string> | undefined;
/** Spends the same time as a real check when the account does not exist. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= bcrypt.hash('palisade-dummy-password-for-timing', BCRYPT_COST);
  await bcrypt.compare(password, await dummy);
  return false;
}
