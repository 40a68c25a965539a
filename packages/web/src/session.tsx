// Who is signed in, and what they may do. The role comes from `GET /me`; buttons a role
// cannot use are not shown (the API refuses them anyway).
import { createContext, useContext } from 'react';
import type { Me } from './api/types';

export const SessionContext = createContext<Me | null>(null);

export function useSession(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('useSession outside a signed-in page');
  return me;
}

export function useCan(): (permission: string) => boolean {
  const me = useSession();
  return (permission) => me.permissions.includes(permission);
}
