import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { must } from './shell.js';

/** openssl req arguments for a new unencrypted EC P-256 key (the lab's and the tests' certificates). */
export const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface LabCerts {
  dir: string;
  caFile: string;
  valid: { cert: string; key: string };
  expired: { cert: string; key: string };
  wrongName: { cert: string; key: string };
  /** For the DNS server's DoT and DoH listeners. */
  dns: { cert: string; key: string };
}

/**
 * A throw-away CA and three server certificates made with the openssl CLI at lab start: valid for
 * the web name and addresses, expired (validity entirely in the past), and valid but for another
 * name. `openssl ca` is used because OpenSSL 3.0's `x509 -req` cannot set a past start date.
 */
export async function makeCerts(names: {
  name: string;
  wrongName: string;
  ips: string[];
  dnsName: string;
  dnsIps: string[];
}): Promise<LabCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'vantage-lab-ca-'));
  const p = (f: string): string => join(dir, f);
  await writeFile(p('index.txt'), '');
  await writeFile(p('serial'), '1000\n');
  await writeFile(
    p('ca.cnf'),
    `[ca]
default_ca = lab
[lab]
dir = ${dir}
database = ${p('index.txt')}
serial = ${p('serial')}
new_certs_dir = ${dir}
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[any]
commonName = supplied
`,
  );
  await must([
    'openssl',
    'req',
    '-x509',
    ...NEW_EC_KEY,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '3',
    '-subj',
    '/CN=Vantage Lab CA',
  ]);
  const issue = async (
    base: string,
    cn: string,
    san: string,
    dates: string[],
  ): Promise<{ cert: string; key: string }> => {
    await must([
      'openssl',
      'req',
      '-new',
      ...NEW_EC_KEY,
      '-keyout',
      p(`${base}.key`),
      '-out',
      p(`${base}.csr`),
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
    ]);
    await must([
      'openssl',
      'ca',
      '-batch',
      '-notext',
      '-config',
      p('ca.cnf'),
      '-cert',
      p('ca.pem'),
      '-keyfile',
      p('ca.key'),
      '-in',
      p(`${base}.csr`),
      '-out',
      p(`${base}.pem`),
      ...dates,
    ]);
    return { cert: p(`${base}.pem`), key: p(`${base}.key`) };
  };
  const san = [`DNS:${names.name}`, ...names.ips.map((ip) => `IP:${ip}`)].join(',');
  return {
    dir,
    caFile: p('ca.pem'),
    valid: await issue('valid', names.name, san, ['-days', '2']),
    expired: await issue('expired', names.name, san, ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']),
    wrongName: await issue('wrong', names.wrongName, `DNS:${names.wrongName}`, ['-days', '2']),
    dns: await issue(
      'dns',
      names.dnsName,
      [`DNS:${names.dnsName}`, ...names.dnsIps.map((ip) => `IP:${ip}`)].join(','),
      ['-days', '2'],
    ),
  };
}
