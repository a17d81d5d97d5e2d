import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PAYLOAD_BYTES, newTaskJson, prepareNewTask } from './new-task.js';

const NOW = 1_700_000_000_000;

describe('prepareNewTask', () => {
  it('returns copies of input and metadata parsed back from their text', () => {
    const input = { text: 'deploy', list: [1, 'two'] };
    const metadata = { source: { id: 'd-1' } };
    const json = newTaskJson();
    const task = prepareNewTask({ input, metadata }, NOW, DEFAULT_MAX_PAYLOAD_BYTES, json);
    expect(task.input).toEqual(input);
    expect(task.input).not.toBe(input);
    expect(task.metadata).toEqual(metadata);
    expect(task.metadata).not.toBe(metadata);
    expect(json.input).toBe('{"text":"deploy","list":[1,"two"]}');
  });

  it('keeps the objects of a handed-over task as they are, checked and serialized the same', () => {
    const input = { text: 'deploy', list: [1, 'two'] };
    const metadata = { source: { id: 'd-1' } };
    const json = newTaskJson();
    const task = prepareNewTask(
      { input, metadata, handedOver: true },
      NOW,
      DEFAULT_MAX_PAYLOAD_BYTES,
      json,
    );
    expect(task.input).toBe(input);
    expect(task.metadata).toBe(metadata);
    expect(json.input).toBe('{"text":"deploy","list":[1,"two"]}');
    expect(json.metadata).toBe('{"source":{"id":"d-1"}}');
    expect(() =>
      prepareNewTask(
        { input: { n: Number.POSITIVE_INFINITY }, handedOver: true },
        NOW,
        DEFAULT_MAX_PAYLOAD_BYTES,
        json,
      ),
    ).toThrow(/input\.n is Infinity/);
    // An empty metadata object is the shared empty one either way.
    const bare = prepareNewTask(
      { input: 'x', metadata: {}, handedOver: true },
      NOW,
      DEFAULT_MAX_PAYLOAD_BYTES,
      json,
    );
    expect(bare.metadata).toEqual({});
  });
});
