// --probe never tries to start a server that is part of the client (builtin) or that a client
// extension starts (extension): the config holds no command or URL for it, and the probe says so.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discover } from '../../src/discover.js';
import { locationContext } from '../../src/paths.js';
import { probeServer } from '../../src/probe/server.js';
import { FIXTURES } from '../discovery/helpers.js';

describe('probing builtin and extension servers', () => {
  it('reports why they were not started', async () => {
    const corpus = path.join(FIXTURES, 'corpus');
    const r = await discover({
      loc: locationContext({ home: path.join(corpus, 'no-such-home'), platform: 'linux' }),
      configFiles: [path.join(corpus, 'goose/.config/goose/config.yaml'), path.join(corpus, 'zed/.config/zed/settings.json')],
      resolveVersions: false,
    });
    const builtin = r.servers.find((s) => s.transport === 'builtin')!;
    const extension = r.servers.find((s) => s.transport === 'extension')!;
    const b = await probeServer(builtin, r.raw.get(builtin.id), { timeoutMs: 2000 });
    const e = await probeServer(extension, r.raw.get(extension.id), { timeoutMs: 2000 });
    expect(b.probe).toMatchObject({ ok: false, error: expect.stringMatching(/built into the client .* Palisade cannot start it/) });
    expect(e.probe).toMatchObject({ ok: false, error: expect.stringMatching(/A client extension starts this server/) });
  });
});
