// Issue 17 §3: the fleet scripts under deploy/mdm/. What this Linux machine can check:
// shellcheck on every shell script, `ansible-playbook --syntax-check` on the role, YAML and
// property-list validity, and the Linux install script run for real under a temporary root
// (checksum enforced, key file 0600 and never printed, the service file written). The Jamf
// script needs macOS (PlistBuddy, launchctl) and the Intune PowerShell scripts need Windows
// (no PowerShell from Debian here): they are checked statically.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mdm = path.join(root, 'deploy/mdm');
const KEY = 'pal_MdmTestKeyThatMustNeverBePrinted_0123';
const has = (cmd: string, args = ['--version']) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
const files = walk(mdm);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-mdm-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('deploy/mdm static checks', () => {
  it('has Jamf, Intune (Windows, Linux) and Ansible', () => {
    const rel = files.map((f) => path.relative(mdm, f));
    expect(rel).toEqual(
      expect.arrayContaining([
        'jamf/install-palisade.sh',
        'jamf/palisade-pppc.mobileconfig',
        'intune/windows/Install-Palisade.ps1',
        'intune/windows/Detect-Palisade.ps1',
        'intune/linux/install-palisade.sh',
        'ansible/site.yml',
        'ansible/roles/palisade_agent/tasks/main.yml',
      ]),
    );
  });

  it.skipIf(!has('shellcheck'))('every shell script passes shellcheck and is executable', () => {
    const scripts = files.filter((f) => f.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThanOrEqual(4);
    const r = spawnSync('shellcheck', ['--severity=style', ...scripts], { encoding: 'utf8' });
    expect(r.status, r.stdout).toBe(0);
    for (const s of scripts) expect(statSync(s).mode & 0o111, s).not.toBe(0);
  });

  it('every YAML file parses', () => {
    for (const f of files.filter((x) => /\.ya?ml$/.test(x))) expect(() => YAML.parse(readFileSync(f, 'utf8')), f).not.toThrow();
  });

  it.skipIf(!has('ansible-playbook'))('the playbook and role pass ansible-playbook --syntax-check', () => {
    const r = spawnSync('ansible-playbook', ['-i', 'inventory.example.ini', 'site.yml', '--syntax-check'], {
      cwd: path.join(mdm, 'ansible'),
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: path.join(tmp, 'ansible') },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('the Ansible role hides the key (no_log), verifies the checksum and keeps the settings 0600', () => {
    const tasks = YAML.parse(readFileSync(path.join(mdm, 'ansible/roles/palisade_agent/tasks/main.yml'), 'utf8')) as Array<
      Record<string, Record<string, string> | boolean | string>
    >;
    const settings = tasks.find((t) => t['ansible.builtin.template'])!;
    expect(settings.no_log).toBe(true);
    expect((settings['ansible.builtin.template'] as Record<string, string>).mode).toBe('0600');
    const dl = tasks.find((t) => t['ansible.builtin.get_url'])!['ansible.builtin.get_url'] as Record<string, string>;
    expect(dl.checksum).toMatch(/^sha256:/);
    expect(readFileSync(path.join(mdm, 'ansible/roles/palisade_agent/defaults/main.yml'), 'utf8')).toMatch(/palisade_agent_key: ""/);
  });

  it.skipIf(!has('python3'))('the PPPC profile is a property list granting Full Disk Access to the binary', () => {
    const r = spawnSync(
      'python3',
      ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', path.join(mdm, 'jamf/palisade-pppc.mobileconfig')],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    const fda = p.PayloadContent[0].Services.SystemPolicyAllFiles[0];
    expect(fda).toMatchObject({ Identifier: '/usr/local/bin/palisade', Allowed: true });
  });

  it('the Jamf script takes the key from managed preferences, never from a script parameter', () => {
    const s = readFileSync(path.join(mdm, 'jamf/install-palisade.sh'), 'utf8');
    expect(s).toContain("PlistBuddy -c 'Print :AgentKey'");
    expect(s).not.toMatch(/key="\$\{?[4-9]/);
    expect(s).toMatch(/shasum -a 256/);
    expect(s).toContain('--api-key-file');
  });

  it('the Intune PowerShell scripts validate inputs, check the hash, restrict the settings ACL and never print the key', () => {
    const s = readFileSync(path.join(mdm, 'intune/windows/Install-Palisade.ps1'), 'utf8');
    expect(s).toContain('Set-StrictMode -Version Latest');
    expect(s).toContain("$ErrorActionPreference = 'Stop'");
    expect(s).toContain('Get-FileHash -Algorithm SHA256');
    expect(s).toContain('SetAccessRuleProtection($true, $false)');
    expect(s).toMatch(/ValidatePattern\('\^https:\/\/'\)/);
    for (const line of s.split('\n')) if (line.includes('Write-')) expect(line).not.toContain('$key');
    expect(s).not.toMatch(/param\([^)]*\$(?:Api)?Key/is);
  });
});

describe('intune/linux/install-palisade.sh run under a temporary root', () => {
  function fakeRelease(): { file: string; sha: string } {
    const file = path.join(tmp, 'palisade-0.1.0-linux-x64');
    writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'packages/cli/bin/palisade.js')}" "$@"\n`);
    chmodSync(file, 0o755);
    return { file, sha: createHash('sha256').update(readFileSync(file)).digest('hex') };
  }

  it('installs the binary, the 0600 settings with the key (never printed) and the unit; removes the dropped key file', () => {
    const rel = fakeRelease();
    const inst = path.join(tmp, 'root1');
    const keyFile = path.join(tmp, 'dropped-key');
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    const r = spawnSync('bash', [path.join(mdm, 'intune/linux/install-palisade.sh')], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        PALISADE_INSTALL_ROOT: inst,
        PALISADE_SERVER: 'https://palisade.example.com',
        PALISADE_BINARY_URL: rel.file,
        PALISADE_BINARY_SHA256: rel.sha,
        PALISADE_API_KEY_FILE: keyFile,
      },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(r.stdout).toContain('reporting to https://palisade.example.com');
    expect(statSync(path.join(inst, 'usr/local/bin/palisade')).mode & 0o777).toBe(0o755);
    const settings = path.join(inst, 'etc/palisade/agent.json');
    expect(statSync(settings).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(settings, 'utf8'))).toEqual({ server: 'https://palisade.example.com', apiKey: KEY });
    const unit = readFileSync(path.join(inst, 'etc/systemd/system/palisade-agent.service'), 'utf8');
    expect(unit).toContain('ExecStart=/usr/local/bin/palisade agent run --interval 1h --splay 5m --all-users --config %d/agent.json');
    expect(existsSync(keyFile)).toBe(false);
  });

  it('refuses a binary whose checksum does not match, and a plain http server', () => {
    const rel = fakeRelease();
    const base = { PATH: process.env.PATH, HOME: tmp, PALISADE_BINARY_URL: rel.file, PALISADE_API_KEY: KEY };
    const inst = path.join(tmp, 'root2');
    const bad = spawnSync('bash', [path.join(mdm, 'intune/linux/install-palisade.sh')], {
      encoding: 'utf8',
      env: { ...base, PALISADE_INSTALL_ROOT: inst, PALISADE_SERVER: 'https://palisade.example.com', PALISADE_BINARY_SHA256: 'a'.repeat(64) },
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('checksum mismatch');
    expect(existsSync(path.join(inst, 'usr/local/bin/palisade'))).toBe(false);
    const http = spawnSync('bash', [path.join(mdm, 'intune/linux/install-palisade.sh')], {
      encoding: 'utf8',
      env: { ...base, PALISADE_INSTALL_ROOT: inst, PALISADE_SERVER: 'http://palisade.example.com', PALISADE_BINARY_SHA256: rel.sha },
    });
    expect(http.status).toBe(1);
    expect(http.stdout + http.stderr).not.toContain(KEY);
  });
});
