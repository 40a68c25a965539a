// Issue 17 §5: the Kubernetes manifests under deploy/k8s/ render with `kubectl kustomize`
// (offline, no cluster) and every overlay keeps the platform team's requirements: 2+
// replicas, probes on /healthz, requests and limits, non-root with a read-only root and no
// capabilities, a NetworkPolicy and a PodDisruptionBudget that select the pods, and secrets
// read only from existing Secrets (no Secret object, no secret-shaped literal anywhere).
// The Dockerfile cannot be built here (no Docker daemon): it is checked statically.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { detectSecret } from '@palisade/core';
import { parseDockerfile } from '../security/dockerfile.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const overlaysDir = path.join(root, 'deploy/k8s/overlays');
const overlays = readdirSync(overlaysDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered Kubernetes objects, checked field by field
  spec?: any;
  data?: Record<string, string>;
};

function render(dir: string): Obj[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  return YAML.parseAllDocuments(out).map((d) => d.toJS() as Obj);
}

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

describe.skipIf(!hasKubectl)('deploy/k8s overlays rendered by kubectl kustomize', () => {
  it('has the overlays the docs name', () => {
    expect(overlays.sort()).toEqual(['production', 'production-redis', 'staging']);
  });

  for (const overlay of overlays) {
    describe(overlay, () => {
      const objs = render(path.join(overlaysDir, overlay));
      const of = (kind: string) => objs.filter((o) => o.kind === kind);
      const dep = of('Deployment')[0]!;
      const pod = dep.spec.template.spec;
      const podLabels = dep.spec.template.metadata.labels as Record<string, string>;

      it('runs 2 or more replicas, rolling without dropping below the count', () => {
        expect(of('Deployment')).toHaveLength(1);
        expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(dep.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
        for (const hpa of of('HorizontalPodAutoscaler')) expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      });

      it('runs non-root with a read-only root filesystem, no privilege escalation and every capability dropped', () => {
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.hostNetwork ?? false).toBe(false);
        expect(pod.hostPID ?? false).toBe(false);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          expect(c.securityContext.runAsNonRoot).toBe(true);
          expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
          expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
          expect(c.securityContext.privileged ?? false).toBe(false);
          expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
          expect(c.securityContext.capabilities.add ?? []).toEqual([]);
        }
        // a read-only root needs writable mounts for what the server writes: /data and /tmp
        const mounts = pod.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath);
        expect(mounts).toEqual(expect.arrayContaining(['/data', '/tmp']));
        for (const v of pod.volumes) expect(v.hostPath).toBeUndefined();
      });

      it('sets requests and limits for cpu and memory, requests below limits', () => {
        const toMi = (q: string) => (q.endsWith('Gi') ? Number(q.slice(0, -2)) * 1024 : Number(q.replace(/Mi$/, '')));
        const toMilli = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
        for (const c of pod.containers) {
          const { requests, limits } = c.resources;
          for (const k of ['cpu', 'memory']) {
            expect(requests[k], `${c.name} requests.${k}`).toBeDefined();
            expect(limits[k], `${c.name} limits.${k}`).toBeDefined();
          }
          expect(toMilli(String(requests.cpu))).toBeLessThanOrEqual(toMilli(String(limits.cpu)));
          expect(toMi(requests.memory)).toBeLessThanOrEqual(toMi(limits.memory));
        }
      });

      it('probes /healthz for startup, readiness and liveness on the serving port', () => {
        const c = pod.containers[0];
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          expect(c[probe].httpGet.path, probe).toBe('/healthz');
          expect(c[probe].httpGet.port).toBe('http');
        }
        expect(c.ports.find((p: { name: string }) => p.name === 'http').containerPort).toBe(8080);
        expect(c.args).toEqual(['serve', '--host', '0.0.0.0', '--port', '8080', '--data', '/data']);
      });

      it('reads secrets only from an existing Secret: no Secret object, no literal secret value', () => {
        expect(of('Secret')).toEqual([]);
        const env = pod.containers[0].env as Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
        const byName = new Map(env.map((e) => [e.name, e]));
        for (const name of ['JWT_SECRET', 'DATABASE_URL', 'DATABASE_MIGRATION_URL']) {
          expect(byName.get(name)?.valueFrom?.secretKeyRef?.name, name).toBe('palisade-secrets');
          expect(byName.get(name)?.value).toBeUndefined();
        }
        if (overlay.includes('redis')) expect(byName.get('REDIS_URL')?.valueFrom?.secretKeyRef?.key).toBe('REDIS_URL');
        else expect(byName.has('REDIS_URL')).toBe(false);
        // every literal in the rendered output: plain env values and ConfigMap data
        const literals: Array<[string, string]> = [
          ...env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!] as [string, string]),
          ...of('ConfigMap').flatMap((cm) => Object.entries(cm.data ?? {})),
        ];
        for (const [name, value] of literals) {
          expect(/secret|password|token|api[_-]?key|database_url|redis_url/i.test(name), `${name} is a literal`).toBe(false);
          expect(detectSecret(value), `${name}=${value}`).toBeFalsy();
          expect(/:\/\/[^/\s@]+@/.test(value), `${name} holds credentials in a URL`).toBe(false);
        }
      });

      it('has a NetworkPolicy for both directions and a PodDisruptionBudget, both selecting the pods', () => {
        const [np] = of('NetworkPolicy');
        expect(np).toBeDefined();
        expect(np!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
        expect(matches(np!.spec.podSelector.matchLabels, podLabels)).toBe(true);
        // ingress only from named namespaces, never from everywhere
        for (const rule of np!.spec.ingress) {
          expect(rule.from?.length).toBeGreaterThan(0);
          for (const peer of rule.from) expect(peer.ipBlock).toBeUndefined();
        }
        const egressPorts = np!.spec.egress.flatMap((r: { ports: Array<{ port: number }> }) => r.ports.map((p) => p.port));
        expect(egressPorts).toEqual(expect.arrayContaining([53, 5432, 443]));
        if (overlay.includes('redis')) expect(egressPorts).toContain(6379);
        const [pdb] = of('PodDisruptionBudget');
        expect(pdb).toBeDefined();
        expect(matches(pdb!.spec.selector.matchLabels, podLabels)).toBe(true);
        expect(pdb!.spec.minAvailable).toBeGreaterThanOrEqual(1);
        expect(pdb!.spec.minAvailable).toBeLessThan(dep.spec.replicas);
        const [svc] = of('Service');
        expect(matches(svc!.spec.selector, podLabels)).toBe(true);
      });

      it('puts everything in one namespace and pins the image tag', () => {
        const ns = new Set(objs.map((o) => o.metadata.namespace));
        expect(ns.size).toBe(1);
        expect([...ns][0]).toMatch(/^palisade/);
        expect(pod.containers[0].image).toMatch(/:\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/);
      });
    });
  }
});

describe('Dockerfile against §5 (static: no Docker daemon here, the image is not built)', () => {
  const { stages } = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const runtime = stages[stages.length - 1]!;
  const ops = (op: string) => runtime.instructions.filter((i) => i.op === op);

  it('is multi-stage, runs as the uid the manifests declare, has a /healthz healthcheck and writes only /data', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(ops('USER').at(-1)!.args.split(':')[0]).toBe('10001');
    expect(ops('HEALTHCHECK').at(-1)!.args).toContain('/healthz');
    expect(
      ops('VOLUME')
        .map((i) => i.args)
        .join(' '),
    ).toContain('/data');
    // the Kubernetes args run what the image's ENTRYPOINT expects (palisade's CLI)
    expect(ops('ENTRYPOINT').at(-1)!.args).toContain('packages/cli/dist/main.js');
    const k8s = readFileSync(path.join(root, 'deploy/k8s/base/deployment.yaml'), 'utf8');
    expect(k8s).toContain('runAsUser: 10001');
  });
});

describe('compose.yaml (static: no Docker engine here)', () => {
  type Service = {
    user?: string;
    read_only?: boolean;
    cap_drop?: string[];
    security_opt?: string[];
    ports?: string[];
    environment?: Record<string, string>;
    healthcheck?: { test: string[] };
    build?: string;
  };
  const compose = YAML.parse(readFileSync(path.join(root, 'compose.yaml'), 'utf8')) as { services: Record<string, Service> };

  it('every service runs non-root, read-only, with no capabilities and no new privileges; only the app is published, on loopback', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'db']);
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.user, name).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(svc.read_only, name).toBe(true);
      expect(svc.cap_drop, name).toEqual(['ALL']);
      expect(svc.security_opt, name).toContain('no-new-privileges:true');
    }
    expect(compose.services.app!.user).toBe('10001:10001');
    expect(compose.services.app!.build).toBe('.');
    expect(compose.services.db!.ports).toBeUndefined();
    for (const p of compose.services.app!.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
    expect(compose.services.db!.healthcheck?.test).toContain('pg_isready');
  });

  it('takes every secret from .env through a required variable, never a literal', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [k, v] of Object.entries(svc.environment ?? {})) {
        if (!/secret|password|token|_url$/i.test(k)) continue;
        // the value is a ${VAR:?message} reference, or a URL whose password is one
        const stripped = String(v).replace(/\$\{[A-Z_]+:\?[^}]*\}/g, '');
        expect(stripped, `${name}.${k}`).not.toMatch(/:[^/@:]+@/);
        expect(String(v), `${name}.${k}`).toMatch(/\$\{[A-Z_]+:\?/);
        expect(detectSecret(stripped), `${name}.${k}`).toBeFalsy();
      }
    }
  });
});
