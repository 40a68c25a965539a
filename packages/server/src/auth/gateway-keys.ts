// Gateway keys (issue 16 §4): `pgw_` + 32 random bytes (base64url), handled like agent keys:
// only the SHA-256 is stored, the first 12 characters are kept for display, the look-up is an
// index probe on the digest (PostgreSQL: through the key_lookup policy of migration 027), and
// every request reads the row, so a revocation holds from the next request on.
import { withLookup, type Db } from '../db/scope.js';
import { constantTimeEqual, randomToken, sha256Hex } from './crypto.js';

export const GATEWAY_KEY_PREFIX = 'pgw_';
const DISPLAY_PREFIX_LENGTH = 12;
const KEY_SHAPE = /^pgw_[A-Za-z0-9_-]{43}$/;
/** the header a gateway sends its key in */
export const GATEWAY_KEY_HEADER = 'x-gateway-key';

export function generateGatewayKey(): { key: string; prefix: string; hash: string } {
  const key = GATEWAY_KEY_PREFIX + randomToken(32);
  return { key, prefix: key.slice(0, DISPLAY_PREFIX_LENGTH), hash: sha256Hex(key) };
}

export interface AuthGateway {
  gatewayId: string;
  orgId: string;
  name: string;
}

interface GatewayKeyRow {
  id: string;
  org_id: string;
  name: string;
  key_hash: string;
  revoked_at: string | null;
}

export async function verifyGatewayKey(store: Db, presented: string): Promise<AuthGateway | null> {
  if (!KEY_SHAPE.test(presented)) return null;
  const hash = sha256Hex(presented);
  const row = await withLookup(
    store,
    { 'app.key_hash': hash },
    (tx) =>
      (tx as unknown as Db['db'])
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        .selectFrom('gateways' as any)
        .select(['id', 'org_id', 'name', 'key_hash', 'revoked_at'] as never[])
        .where('key_hash' as never, '=', hash as never)
        .executeTakeFirst() as Promise<GatewayKeyRow | undefined>,
  );
  if (!row || !constantTimeEqual(row.key_hash, hash) || row.revoked_at) return null;
  return { gatewayId: row.id, orgId: row.org_id, name: row.name };
}
