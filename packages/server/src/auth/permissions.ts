// The permission matrix: the single table route guards read (docs/api.md shows the same).
import type { Role } from '../db/schema.js';

export const roles = ['owner', 'admin', 'analyst', 'viewer'] as const satisfies readonly Role[];

/** Higher is more powerful. */
export const roleRank: Record<Role, number> = { viewer: 1, analyst: 2, admin: 3, owner: 4 };

/** Each permission names the lowest role that holds it; every higher role holds it too. */
export const permissionMinRole = {
  'inventory:read': 'viewer',
  'alerts:read': 'viewer',
  'alerts:write': 'analyst',
  'users:read': 'analyst',
  'users:invite': 'admin',
  'users:manage': 'admin',
  'users:grant-owner': 'owner',
  'agent-keys:read': 'admin',
  'agent-keys:write': 'admin',
  'audit:read': 'admin',
  'overrides:write': 'admin',
  'webhooks:read': 'admin',
  'webhooks:write': 'admin',
  'settings:read': 'admin',
  'settings:write': 'admin',
  'advisories:import': 'admin',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof permissionMinRole;

export function can(role: Role, permission: Permission): boolean {
  return roleRank[role] >= roleRank[permissionMinRole[permission]];
}

export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(permissionMinRole) as Permission[]).filter((p) => can(role, p));
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (roles as readonly string[]).includes(v);
}
