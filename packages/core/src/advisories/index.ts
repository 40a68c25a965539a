// Advisory matching: OSV records, CVSS, the database contract and rule PAL-V001.
export * from './osv.js';
export * from './cvss.js';
export * from './severity.js';
export * from './db.js';
export * from './match.js';

export { bundledAdvisoriesDir } from './bundled.js';
