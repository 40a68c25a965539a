// `palisade gateway ...` and `palisade guard -- ...`: declared here without loading the gateway;
// the action imports @palisade/gateway (SQLite, the MCP SDK, jose) only when one of them runs,
// so `palisade scan` never loads it. The gateway parses its own arguments (runGatewayCommand).
import type { Command } from 'commander';

function passThrough(program: Command, name: 'gateway' | 'guard', description: string): void {
  program
    .command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (_args: string[], _opts: unknown, cmd: Command) => {
      // the raw words after the command name, "--" included (guard needs it to end its options)
      const raw = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
      const at = raw.indexOf(name);
      const { runGatewayCommand } = await import('@palisade/gateway');
      process.exitCode = await runGatewayCommand(raw.slice(at >= 0 ? at : 0));
    });
}

export function registerGatewayCommands(program: Command): void {
  passThrough(program, 'gateway', 'run the MCP gateway (--config FILE [--host H] [--port P] [--stdio]); also: gateway check | approve | token create');
  passThrough(program, 'guard', 'run one stdio MCP server behind the gateway policy: palisade guard [--config FILE] -- COMMAND ARGS...');
}
