import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const AGENT_NAME = 'palisade';
export const AGENT_VERSION: string = (require('../package.json') as { version: string }).version;
