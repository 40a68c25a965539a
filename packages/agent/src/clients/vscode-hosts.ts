// Editors built on VS Code that host extensions such as Cline and Roo Code, each with its own
// user-data folder under the platform's app-data folder.
import type { LocationContext } from './types.js';

export const VSCODE_HOSTS = ['Code', 'Code - Insiders', 'Cursor', 'Windsurf', 'VSCodium'] as const;

/** <appData>/<host>/User/globalStorage/<extensionId>/<...rest> for every host. */
export function globalStoragePaths(loc: LocationContext, extensionId: string, ...rest: string[]): string[] {
  return VSCODE_HOSTS.map((host) => loc.join(loc.appData, host, 'User', 'globalStorage', extensionId, ...rest));
}
