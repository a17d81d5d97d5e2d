import { describe, expect, it } from 'vitest';
import { IntakeGate } from './intake.js';

describe('IntakeGate.run', () => {
  it('counts work in flight until it settles, resolved or rejected', async () => {
    const gate = new IntakeGate();
    gate.open();
    let finish!: (value: string) => void;
    const ok = gate.run(() => new Promise<string>((resolve) => (finish = resolve)));
    const failed = gate.run(() => Promise.reject(new Error('no')));
    expect(gate.inFlight).toBe(2);
    await expect(failed).rejects.toThrow('no');
    expect(gate.inFlight).toBe(1);
    let drained = false;
    const idle = gate.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    finish('done');
    await expect(ok).resolves.toBe('done');
    await idle;
    expect(gate.inFlight).toBe(0);
  });

  it('settles work that throws before returning a promise, as a rejection', async () => {
    const gate = new IntakeGate();
    gate.open();
    const run = gate.run((): Promise<void> => {
      throw new Error('at once');
    });
    expect(gate.inFlight).toBe(0);
    await expect(run).rejects.toThrow('at once');
  });

  it('waits for the gate to open, and refuses work once it is closed', async () => {
    const gate = new IntakeGate();
    let ran = false;
    const waiting = gate.run(async () => {
      ran = true;
      return 1;
    });
    await Promise.resolve();
    expect(ran).toBe(false);
    gate.open();
    await expect(waiting).resolves.toBe(1);
    gate.close();
    await expect(gate.run(async () => 2)).rejects.toMatchObject({ code: 'E_INTAKE_CLOSED' });
  });
});
