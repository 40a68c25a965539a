// Types of every-client-home.mjs, for the tests that import it.
export interface WrittenConfig {
  client: string;
  path: string;
  /** the config shape written (a key of SHAPES) */
  shape: string;
  /** servers in the file */
  count: number;
}

export function serverSpec(i: number, token?: string): { name: string; command?: string; args?: string[]; url?: string; env?: Record<string, string>; headers?: Record<string, string> };

export function writeEveryClientHome(
  home: string,
  opts?: { servers?: number; perFile?: number; token?: string; platform?: 'linux' | 'darwin' | 'win32' },
): Promise<{ targets: WrittenConfig[]; missing: string[]; clients: number }>;
