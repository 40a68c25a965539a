// Access tokens: HS256 JWTs, 15 minutes. Verification accepts HS256 only, so `alg: none`
// and RS256/HS256 confusion are refused, and checks issuer and audience.
import { SignJWT, jwtVerify } from 'jose';
import type { Role } from '../db/schema.js';
import { isRole } from './permissions.js';

export const ACCESS_TTL_SECONDS = 15 * 60;
const ISSUER = 'palisade';
const AUDIENCE = 'palisade-api';

export interface AccessClaims {
  sub: string;
  org: string;
  role: Role;
  sid: string;
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function signAccessToken(claims: AccessClaims, key: Uint8Array, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  return new SignJWT({ org: claims.org, role: claims.role, sid: claims.sid })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ACCESS_TTL_SECONDS)
    .sign(key);
}

/** The claims of a valid token, or null for anything forged, expired, malformed or of another algorithm. */
export async function verifyAccessToken(token: string, key: Uint8Array): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['sub', 'exp', 'iat'] });
    const { sub, org, role, sid } = payload as Record<string, unknown>;
    if (typeof sub !== 'string' || typeof org !== 'string' || typeof sid !== 'string' || !isRole(role)) return null;
    return { sub, org, role, sid };
  } catch {
    return null;
  }
}
