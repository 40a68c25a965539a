// The strength estimates' dictionaries (zxcvbn-ts, ~40 MB of heap) are not held for serve's
// whole life (auth/strength.ts): the modules leave the module cache as soon as an estimator is
// built, and an estimator is dropped a while after its last use; the verdicts do not change.
import { describe, expect, it } from 'vitest';
import { estimateSecretBits, jwtSecretProblem } from '../src/auth/jwt-secret.js';
import { passwordProblem } from '../src/auth/passwords.js';
import { buildEstimator, TransientEstimator, zxcvbnLoaded } from '../src/auth/strength.js';

describe('strength estimators', () => {
  it('are built with the zxcvbn modules out of the module cache afterwards, and judge as before', () => {
    const z = buildEstimator({ extra: ['palisade'] }, 40);
    expect(zxcvbnLoaded()).toBe(false);
    expect(z.check('palisade').score).toBe(0);
    expect(z.check('quartz-lantern-orbit-meadow-91').score).toBeGreaterThanOrEqual(3);
    // the product's checks give the same answers through them
    expect(passwordProblem('password1234')).toMatch(/too weak/);
    expect(passwordProblem('quartz-lantern-orbit-meadow-91')).toBeNull();
    expect(jwtSecretProblem('changeme-changeme-changeme-changeme')).toMatch(/example or placeholder/);
    expect(estimateSecretBits('qwertyuiopasdfghjklzxcvbnm1234567890qwertyuiop')).toBeLessThan(256);
    expect(zxcvbnLoaded()).toBe(false);
  });

  it('drop an estimator a while after its last use, and build one again when asked', async () => {
    let built = 0;
    const t = new TransientEstimator(() => (built++, buildEstimator({}, 40)), 200);
    const first = t.get();
    expect(t.held).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(t.get()).toBe(first); // used again within the window: kept, the window restarts
    await new Promise((r) => setTimeout(r, 120));
    expect(t.held).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.held).toBe(false);
    expect(t.get().check('password').score).toBe(0);
    expect(built).toBe(2);
  });
});
