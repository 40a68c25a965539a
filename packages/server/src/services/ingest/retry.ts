// Retrying a transaction the database gave up on for another transaction's sake, shared by
// the pipeline and the unchanged-report touch.
/** A transaction the database gave up on for another's sake (never a failure of the report itself): run it again. */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      // PostgreSQL: deadlock victim, serialization failure; SQLite: another connection (a
      // second process on the file) wrote after this transaction's snapshot began
      if (i >= attempts || (code !== '40P01' && code !== '40001' && code !== 'SQLITE_BUSY' && code !== 'SQLITE_BUSY_SNAPSHOT')) throw err;
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 20));
    }
  }
}
