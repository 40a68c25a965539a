// The rule registry: every rule module is listed here once. Advisory rules (PAL-V...) live
// with the advisory code and are appended from there.
import { advisoryRules } from './advisory/pal-v001-known-vulnerable-package.js';
import type { Rule } from './types.js';
import { shellInlineCode } from './config/pal-c001-shell-inline-code.js';
import { pipeToShell } from './config/pal-c002-pipe-to-shell.js';
import { unpinnedPackage } from './config/pal-c003-unpinned-package.js';
import { codeFromGit } from './config/pal-c004-code-from-git.js';
import { privilegedDocker } from './config/pal-c005-privileged-docker.js';
import { broadFilesystemScope } from './config/pal-c006-broad-filesystem-scope.js';
import { elevatedPrivileges } from './config/pal-c007-elevated-privileges.js';
import { literalSecret } from './config/pal-c008-literal-secret.js';
import { credentialsInUrl } from './config/pal-c009-credentials-in-url.js';
import { plaintextHttp } from './config/pal-c010-plaintext-http.js';
import { tlsVerificationDisabled } from './config/pal-c011-tls-verification-disabled.js';
import { autoApprovedTools } from './config/pal-c012-auto-approved-tools.js';
import { typosquat } from './config/pal-c013-typosquat.js';
import { hiddenInstructions } from './tool/pal-t001-hidden-instructions.js';
import { sensitiveFileReference } from './tool/pal-t002-sensitive-file-reference.js';
import { hiddenUnicode } from './tool/pal-t003-hidden-unicode.js';
import { ansiEscapes } from './tool/pal-t004-ansi-escapes.js';
import { crossServerShadowing } from './tool/pal-t005-cross-server-shadowing.js';
import { toolNameCollision } from './tool/pal-t006-tool-name-collision.js';
import { dangerousCapability } from './tool/pal-t007-dangerous-capability.js';
import { toolDefinitionChanged } from './tool/pal-t008-tool-definition-changed.js';
import { lethalTrifecta } from './flow/pal-f001-lethal-trifecta.js';

export const configRules: readonly Rule[] = [
  shellInlineCode,
  pipeToShell,
  unpinnedPackage,
  codeFromGit,
  privilegedDocker,
  broadFilesystemScope,
  elevatedPrivileges,
  literalSecret,
  credentialsInUrl,
  plaintextHttp,
  tlsVerificationDisabled,
  autoApprovedTools,
  typosquat,
];

export const toolRules: readonly Rule[] = [hiddenInstructions, sensitiveFileReference, hiddenUnicode, ansiEscapes, crossServerShadowing, toolNameCollision, dangerousCapability, toolDefinitionChanged];

export const flowRules: readonly Rule[] = [lethalTrifecta];

export const allRules: readonly Rule[] = [...configRules, ...toolRules, ...flowRules, ...advisoryRules];

export function findRule(id: string): Rule | undefined {
  return allRules.find((r) => r.meta.id.toLowerCase() === id.trim().toLowerCase());
}
