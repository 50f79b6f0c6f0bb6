import { describe, expect, it } from 'vitest';
import { singleReplicaFindings } from '../../../lib/readiness/single-replica';
import { forLonghornVolume } from '../../builders';

const SKIP = 'harvesterhci.io/skipSingleReplicaDetachedVol';

const attached = forLonghornVolume('pvc-attached').replicas(1).state('attached').claim('shop', 'db').result();
const attaching = forLonghornVolume('pvc-attaching').replicas(1).state('attaching').result();
const unknownState = forLonghornVolume('pvc-new').replicas(1).state(undefined).result();
const detached = forLonghornVolume('pvc-detached').replicas(1).state('detached').claim('shop', 'cache').result();
const detachedOptedOut = forLonghornVolume('pvc-opted-out').replicas(1).annotations({ [SKIP]: 'true' }).result();
const detachedEmptyOptOut = forLonghornVolume('pvc-empty-opt-out').replicas(1).annotations({ [SKIP]: '' }).result();
const replicated = forLonghornVolume('pvc-replicated').replicas(3).state('attached').result();

/** severity → the volume names in the findings of that severity. */
function verdicts(findings: ReturnType<typeof singleReplicaFindings>) {
  const out: Record<string, string[]> = {};
  for (const f of findings.filter((f) => f.objects.length > 0)) {
    out[f.severity] = [...(out[f.severity] ?? []), ...f.objects.map((o) => o.split(' ')[1]!.split('/')[1]!)];
  }
  return out;
}

describe('singleReplicaFindings', () => {
  it.each([
    { name: 'attached single-replica blocks', volumes: [attached], cluster: undefined, expected: { block: ['pvc-attached'] } },
    { name: 'attaching blocks', volumes: [attaching], cluster: undefined, expected: { block: ['pvc-attaching'] } },
    { name: 'a volume in no known state blocks (cannot tell whether in use)', volumes: [unknownState], cluster: undefined, expected: { block: ['pvc-new'] } },
    { name: 'detached single-replica blocks by default', volumes: [detached], cluster: undefined, expected: { block: ['pvc-detached'] } },
    { name: 'detached with the annotation on the volume warns', volumes: [detachedOptedOut], cluster: undefined, expected: { warn: ['pvc-opted-out'] } },
    { name: 'an empty annotation value does not opt out', volumes: [detachedEmptyOptOut], cluster: undefined, expected: { block: ['pvc-empty-opt-out'] } },
    { name: 'the cluster configuration opts all detached out', volumes: [detached], cluster: { [SKIP]: 'yes' }, expected: { warn: ['pvc-detached'] } },
    { name: 'the opt-out never lowers attached ones', volumes: [attached, detachedOptedOut], cluster: { [SKIP]: 'yes' }, expected: { block: ['pvc-attached'], warn: ['pvc-opted-out'] } },
    { name: 'replicated volumes are fine', volumes: [replicated], cluster: undefined, expected: {} },
  ])('$name', ({ volumes, cluster, expected }) => {
    expect(verdicts(singleReplicaFindings({ volumes, nodeCount: 3, clusterAnnotations: cluster }))).toEqual(expected);
  });

  it('names the PVC of a volume', () => {
    const [finding] = singleReplicaFindings({ volumes: [attached], nodeCount: 3 });
    expect(finding!.objects).toEqual(['Volume longhorn-system/pvc-attached (PVC shop/db)']);
    expect(finding!.action).toMatch(/numberOfReplicas/);
  });

  it.each([
    { nodes: 1, blocks: false, note: /single-node cluster.*skipped/ },
    { nodes: 0, blocks: true, note: /lists no Nodes.*unknown/ },
    { nodes: undefined, blocks: true, note: /could not be listed.*unknown/ },
    { nodes: 2, blocks: true, note: undefined },
  ])('with $nodes nodes: blocks $blocks', ({ nodes, blocks, note }) => {
    const findings = singleReplicaFindings({ volumes: [attached], nodeCount: nodes });
    expect(findings.some((f) => f.severity === 'block')).toBe(blocks);
    const info = findings.filter((f) => f.severity === 'info');
    if (note) expect(info.map((f) => f.message)).toEqual([expect.stringMatching(note)]);
    else expect(info).toEqual([]);
  });

  it('says so when Longhorn is not installed', () => {
    expect(singleReplicaFindings({ volumes: undefined, nodeCount: 3 })).toEqual([
      expect.objectContaining({ severity: 'info', message: expect.stringMatching(/does not serve volumes.longhorn.io/) }),
    ]);
  });
});
