// Identities the inventory is built on (definition fingerprint, instance key, report hash,
// platform) live in @palisade/core, so the agent, the backend and the gateway agree on them.
// See docs/api.md ("Server fingerprint").
export { serverDefinition, serverFingerprint, instanceKey, reportHash, reportPlatform, type ServerDefinition } from '@palisade/core';
