// `palisade advisories import|sync|list|show`: the advisory database the scan matches against.
// Convention: this file only declares the command with commander; the action loads the
// heavy modules with `await import(...)` so `palisade scan` stays fast to start.
import { InvalidArgumentError, type Command } from 'commander';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parsePlatform(v: string): 'darwin' | 'linux' | 'win32' {
  if (v !== 'darwin' && v !== 'linux' && v !== 'win32') throw new InvalidArgumentError('use darwin, linux or win32.');
  return v;
}

export function registerAdvisoriesCommand(program: Command): void {
  const adv = program
    .command('advisories')
    .description('the advisory database (CVE/GHSA/OSV, CISA KEV) that scans match packages against; bundled, plus what you import or sync into $PALISADE_STATE_DIR');

  adv
    .command('import')
    .description('import an OSV export (.zip as osv.dev publishes per ecosystem), a folder of OSV .json files, one OSV .json file, or the CISA KEV catalog .json')
    .argument('<path>', 'file or folder to import')
    .option('--json', 'print the import summary as JSON')
    .option('--server', "import into the backend's database instead (DATABASE_URL, else SQLite in --data) and re-match the organisations' inventories")
    .option('--data <dir>', 'with --server: the data folder of `palisade serve` (default $PALISADE_DATA_DIR or ./.palisade-data)')
    .action(async (source: string, flags: { json?: boolean; server?: boolean; data?: string }) => {
      const { runImport, runServerImport } = await import('./advisories-run.js');
      process.exitCode = flags.server ? await runServerImport(source, flags) : await runImport(source, flags);
    });

  adv
    .command('sync')
    .description("ask the OSV API which advisories affect the packages this machine's MCP servers run, and store them (sends package names and versions only)")
    .option('--api <url>', 'OSV API base URL', 'https://api.osv.dev')
    .option('--home <dir>', "find servers as if DIR were the home folder")
    .option('--platform <os>', 'resolve client locations as on this OS (darwin, linux, win32)', parsePlatform)
    .option('--path <dir>', 'also look for project configs below DIR (repeatable)', collect)
    .option('--config <file>', 'also read this config file (repeatable)', collect)
    .option('--json', 'print the sync summary as JSON')
    .action(async (flags: { api: string; home?: string; platform?: 'darwin' | 'linux' | 'win32'; path?: string[]; config?: string[]; json?: boolean }) => {
      const { runSync } = await import('./advisories-run.js');
      process.exitCode = await runSync(flags);
    });

  adv
    .command('list')
    .description('list the advisories Palisade knows (bundled and imported)')
    .option('--package <name>', 'only advisories that name this package')
    .option('--ecosystem <name>', 'with --package: npm or PyPI', 'npm')
    .option('--json', 'print them as JSON')
    .action(async (flags: { package?: string; ecosystem: string; json?: boolean }) => {
      const { runList } = await import('./advisories-run.js');
      process.exitCode = await runList(flags);
    });

  adv
    .command('show')
    .description('show one advisory by id or alias (GHSA-..., CVE-..., PYSEC-...)')
    .argument('<id>', 'advisory id or alias')
    .option('--json', 'print the OSV record as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { runShow } = await import('./advisories-run.js');
      process.exitCode = await runShow(id, flags);
    });
}
