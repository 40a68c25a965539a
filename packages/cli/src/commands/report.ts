// `palisade configure`, `palisade report` and `palisade daemon`: send scans to a Palisade
// backend with an agent key. This file only declares the commands; the actions load the
// upload modules with `await import(...)` so `palisade scan` stays fast to start.
import { Option, type Command } from 'commander';
import type { ReportFlags } from '@palisade/agent/upload';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function discoveryOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'backend URL (overrides PALISADE_SERVER and the configured one)')
    .option('--api-key <key>', 'agent key (overrides PALISADE_API_KEY and the configured one)')
    .option('--probe', 'connect to each server and list its tools (starts stdio servers)')
    .option('--probe-timeout <seconds>', 'give up on one server after this long when probing', (v) => Number(v), 15)
    .option('--path <dir>', 'also scan project folders below DIR (repeatable)', collect)
    .option('--config <file>', 'scan one config file of any known format (repeatable)', collect)
    .option('--home <dir>', "resolve every client's locations as if DIR were the home folder")
    .addOption(new Option('--platform <os>', 'resolve locations as on this OS').choices(['darwin', 'linux', 'win32']));
}

export function registerReportCommands(program: Command): void {
  program
    .command('configure')
    .description('remember the backend URL and agent key for `palisade report` and `palisade daemon` (stored 0600 in the state folder)')
    .requiredOption('--server <url>', 'backend URL (https://, or http:// to localhost)')
    .requiredOption('--api-key <key>', 'agent key created in the dashboard')
    .option('--no-check', 'save without first checking the URL and key against the backend')
    .action(async (flags: { server: string; apiKey: string; check: boolean }) => {
      const { checkApiKey, checkServerUrl, saveTarget } = await import('@palisade/agent/upload');
      const server = checkServerUrl(flags.server);
      const apiKey = checkApiKey(flags.apiKey);
      let checked = '';
      if (flags.check) {
        const { checkBackend } = await import('./check-backend.js');
        const who = await checkBackend(server, apiKey);
        checked = who.orgId ? ` the key was accepted (organisation ${who.orgId});` : ' the key was accepted;';
      }
      const file = await saveTarget({ server, apiKey });
      process.stdout.write(`palisade: configured;${checked} reports will go to ${server} (settings in ${file}).\n`);
    });

  discoveryOptions(program.command('report'))
    .description('scan this machine and send the report to the backend; undeliverable reports are spooled and resent later (exit 1 when not delivered now)')
    .action(async (flags: ReportFlags) => {
      const { reportOnce } = await import('@palisade/agent/upload');
      const r = await reportOnce(flags);
      if (r.delivered) {
        process.stdout.write(`palisade: report sent to ${r.target.server}${r.drain.delivered > 1 ? ` (with ${r.drain.delivered - 1} older spooled report(s))` : ''}.\n`);
        process.exitCode = 0;
      } else if (r.drain.stoppedBecause) {
        process.stderr.write(`palisade: could not send the report now: ${r.drain.stoppedBecause}. It is spooled (${r.drain.remaining} waiting) and will be sent by the next \`palisade report\` or the daemon.\n`);
        process.exitCode = 1;
      } else {
        process.exitCode = 1; // rejected: the spool has already said why and where it kept it
      }
    });

  discoveryOptions(program.command('daemon'))
    .description('report now and then every interval (jittered by up to 10%) until stopped; spooled reports are resent in order')
    .option('--interval <duration>', 'time between reports: 1h, 30m, 2h30m, ...', '1h')
    .action(async (flags: ReportFlags & { interval: string }) => {
      const { parseInterval, runDaemon } = await import('@palisade/agent/upload');
      const { resolveTarget } = await import('@palisade/agent/upload');
      const intervalMs = parseInterval(flags.interval);
      await resolveTarget(flags); // a missing configuration is an error at start, not every hour
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      process.stderr.write(`palisade: daemon started, reporting every ${flags.interval} (Ctrl-C to stop).\n`);
      await runDaemon(flags, { intervalMs, signal: stop.signal });
      process.stderr.write('palisade: daemon stopped.\n');
      process.exitCode = 0;
    });
}
