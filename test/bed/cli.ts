import { liveBeds, reapLeftovers } from './runs';

/**
 * Runs the test bed by hand.
 *   tsx test/bed/cli.ts up     start it in the foreground; Ctrl-C stops it
 *   tsx test/bed/cli.ts down   stop what crashed runs left behind; running beds
 *                              are listed, not touched (they may be someone else's)
 */

async function up(): Promise<void> {
  // Loaded here: the Kubernetes and S3 clients take seconds to import, which `down` does not need.
  const { startBed } = await import('./bed');
  const bed = await startBed();
  const { state, statePath } = bed;
  // Paths and endpoints only: the credentials stay in the state file and kubeconfigs.
  const lines = [
    '',
    'test bed is up; stop it with Ctrl-C',
    `  export SKIFF_BED_STATE=${statePath}`,
    ...Object.values(state.clusters).map(
      (c) => `  cluster ${c.name.padEnd(6)} ${c.server}  kubectl --kubeconfig ${c.adminKubeconfigPath}`,
    ),
    `  minio          ${state.minio.endpoint} (region ${state.minio.region}; keys in the state file)`,
    `  simulator      ${state.simulator ? state.simulator.ledgerUrl : 'not running'}`,
    `  logs           ${state.workDir}/logs`,
    '',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping the test bed...');
    bed.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // Stay alive until a signal: the bed's programs do not keep the event loop busy.
  setInterval(() => {}, 1 << 30);
}

async function down(): Promise<void> {
  const stopped = await reapLeftovers();
  console.log(`stopped ${stopped} process group(s) left behind by crashed runs`);
  for (const bed of liveBeds()) {
    console.log(`still running: the bed of process ${bed.ownerPid} (${bed.workDir}); stop it with kill ${bed.ownerPid}`);
  }
}

const commands: Record<string, () => Promise<void>> = { up, down };
const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error('usage: tsx test/bed/cli.ts up|down');
  process.exit(2);
}
try {
  await command();
} catch (error) {
  // The message says what failed and shows the end of its log; the stack adds nothing.
  console.error((error as Error).message);
  process.exit(1);
}
