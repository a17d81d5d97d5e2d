import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  compileText,
  type TemplateContext,
  templateProblems,
  templateRoots,
} from './template.js';

const ctx: TemplateContext = {
  payload: { issue: { number: 7, title: 'Crash on start', labels: ['bug', 'p1'] } },
  headers: { 'x-github-event': 'issues' },
  route: 'github',
  deliveryId: 'd-1',
  event: 'issues',
};

describe('templates', () => {
  it('keeps a whole-placeholder value as JSON and interpolates text', () => {
    const t = compileTemplate({
      issue: '{{ payload.issue }}',
      text: 'Triage #{{payload.issue.number}}: {{ payload.issue.title }} ({{ headers.x-github-event }})',
      first: '{{ payload.issue.labels.0 }}',
      missing: '{{ payload.nope.deeper }}',
      inText: '[{{ payload.nope }}]',
      fixed: 3,
    });
    expect(t(ctx)).toEqual({
      issue: ctx.payload && (ctx.payload as { issue: unknown }).issue,
      text: 'Triage #7: Crash on start (issues)',
      first: 'bug',
      missing: null,
      inText: '[]',
      fixed: 3,
    });
  });

  it('renders text templates, JSON-encoding non-strings', () => {
    expect(compileText('{{ route }}:{{ payload.issue.labels }}')(ctx)).toBe('github:["bug","p1"]');
  });

  it('reports unknown roots', () => {
    expect(templateProblems({ a: ['{{ body.x }}'] })).toEqual([
      'unknown placeholder root "body" in "{{body.x}}" (use payload, headers, route, deliveryId, event)',
    ]);
    expect(templateProblems('{{ event }} {{ deliveryId }}')).toEqual([]);
  });

  it('does not read inherited properties', () => {
    expect(compileTemplate('{{ payload.constructor }}')(ctx)).toBeNull();
  });

  it('lists the placeholder roots a template reads', () => {
    expect([...templateRoots({ a: '{{ payload.x }}', b: ['by {{headers.x-user}}', 3] })]).toEqual([
      'payload',
      'headers',
    ]);
    expect(templateRoots([undefined, 'plain text', '{{ route }}']).has('headers')).toBe(false);
  });
});
