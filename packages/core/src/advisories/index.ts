// Advisory matching: OSV records, CVSS, the database contract and rule PAL-V001.
export * from './osv.js';
export * from './cvss.js';
export * from './severity.js';
export * from './db.js';
export * from './match.js';
export { advisoryRules, knownVulnerablePackage, knownVulnerablePackageCases, PAL_V001_CASE_ADVISORIES } from './rule.js';
export { bundledAdvisoriesDir } from './bundled.js';
