import { describe, expect, it } from 'vitest';
import { conditionalWritesVerdict } from '../../../lib/store/location-check';

describe('Function: conditionalWritesVerdict', () => {
  it.each([
    { createOverExisting: 'refused', replaceWithWrongEtag: 'refused', verdict: 'honoured', named: [] },
    { createOverExisting: 'accepted', replaceWithWrongEtag: 'refused', verdict: 'ignored', named: ['If-None-Match: *'] },
    { createOverExisting: 'refused', replaceWithWrongEtag: 'accepted', verdict: 'ignored', named: ['"If-Match" ETag'] },
    { createOverExisting: 'accepted', replaceWithWrongEtag: 'accepted', verdict: 'ignored', named: ['If-None-Match: *', '"If-Match" ETag'] },
  ] as const)(
    'create over an existing object $createOverExisting, replace with a wrong ETag $replaceWithWrongEtag: $verdict',
    ({ createOverExisting, replaceWithWrongEtag, verdict, named }) => {
      // Act
      const answer = conditionalWritesVerdict('edge', { createOverExisting, replaceWithWrongEtag });

      // Assess
      expect(answer.conditionalWrites).toBe(verdict);
      if (verdict === 'honoured') {
        expect(answer.writesRefused).toBeUndefined();
        return;
      }
      expect(answer.writesRefused).toMatch(/^storage location "edge" is refused for writing: its object store ignores conditional writes/);
      for (const what of named) expect(answer.writesRefused).toContain(what);
      expect(answer.writesRefused).toMatch(/accessMode to ReadOnly/);
    },
  );
});
