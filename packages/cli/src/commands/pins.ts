// `palisade pins list|reset`: see and reset the tool pins that catch changed tool definitions.
// Convention: this file only declares the command with commander; the action loads the
// heavy modules with `await import(...)` so `palisade scan` stays fast to start.
import type { Command } from 'commander';

async function io() {
  const { stateDirPath } = await import('@palisade/agent');
  return { stateDir: stateDirPath(), out: (t: string) => void process.stdout.write(t), err: (t: string) => void process.stderr.write(t) };
}

export function registerPinsCommand(program: Command): void {
  const pins = program
    .command('pins')
    .description('list or reset the tool pins that detect changed tool definitions (rug pulls); kept in $PALISADE_STATE_DIR or the state folder');

  pins
    .command('list')
    .description('list every pinned tool: its server, when it was first seen, and whether it changed since')
    .option('--json', 'print the pins as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { runPinsList } = await import('@palisade/agent/pins');
      process.exitCode = await runPinsList(flags, await io());
    });

  pins
    .command('reset')
    .description('forget the pins of one server (by name or id), or of all servers, so the next probe pins the current definitions')
    .argument('[server]', 'server name or id; all servers when omitted')
    .action(async (server: string | undefined) => {
      const { runPinsReset } = await import('@palisade/agent/pins');
      process.exitCode = await runPinsReset(server, await io());
    });
}
