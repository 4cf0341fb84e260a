/**
 * `npm run lab -- up|down|status`: explore the network lab by hand. `up` builds a persistent lab
 * (it stays after this command exits) and prints its ground truth; `down` removes every lab.
 */
import { Lab, labStatus, labSupport, persistentTruth, removeAllLabs } from './lab.js';

const command = process.argv[2];

async function main(): Promise<number> {
  switch (command) {
    case 'up': {
      const support = await labSupport();
      if (!support.ok) {
        process.stderr.write(`lab: ${support.reason}\n`);
        return 1;
      }
      const existing = await persistentTruth();
      if (existing) {
        process.stderr.write(`lab: a lab is already up (${existing.prefix}); npm run lab -- down first\n`);
        return 1;
      }
      const started = Date.now();
      const lab = await Lab.up({}, { persistent: true });
      process.stdout.write(`${JSON.stringify(lab.truth, null, 2)}\n`);
      const ns = lab.truth.namespaces;
      process.stderr.write(
        `lab up in ${Date.now() - started} ms. Try:\n` +
          `  ip netns exec ${ns.agent} ping -c3 ${lab.truth.echo.v4}\n` +
          `  ip netns exec ${ns.agent} traceroute -I -n ${lab.truth.lastRouter.v4}\n` +
          `  ip netns exec ${ns.agent} dig @${lab.truth.dns.auth.v4} multi.${lab.truth.dns.zone}\n` +
          `  ip netns exec ${ns.agent} curl --cacert ${lab.truth.https.caFile} https://${lab.truth.https.name}/\n`,
      );
      return 0;
    }
    case 'down': {
      const removed = await removeAllLabs();
      process.stdout.write(removed.length ? `removed ${removed.join(', ')}\n` : 'no lab to remove\n');
      return 0;
    }
    case 'status': {
      const labs = await labStatus();
      if (labs.length === 0) process.stdout.write('no lab is up\n');
      for (const l of labs) {
        process.stdout.write(
          `${l.prefix} ${l.persistent ? 'persistent' : l.ownerAlive ? 'owned by a running test' : 'leftover'}: ` +
            `${l.namespaces.join(' ')}\n`,
        );
      }
      return 0;
    }
    default:
      process.stderr.write('usage: npm run lab -- up|down|status\n');
      return 2;
  }
}

process.exitCode = await main();
