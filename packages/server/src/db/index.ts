export * from './open.js';
export * from './schema.js';
export * from './scope.js';
export * from './rls.js';
export * from './migrate.js';
export * from './roles.js';
