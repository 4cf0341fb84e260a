import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * A self-signed EC P-256 certificate for 127.0.0.1, made in memory for the TLS warm-up handshake
 * (warm-up.ts): Node has no X.509 writer and the warm-up must not depend on a file or a tool, so
 * this writes the few DER structures a certificate needs. Never used to secure anything.
 */
export function throwawayCertificate(): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from('vantage-warm-up')))));
  const now = Date.now();
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    serialNumber(),
    ECDSA_SHA256,
    name,
    seq(utcTime(now - 3_600_000), utcTime(now + 86_400_000)),
    name,
    publicKey.export({ format: 'der', type: 'spki' }),
    // Extensions: subjectAltName IP 127.0.0.1, so the host check passes as it would for a real server.
    tlv(0xa3, seq(seq(oid('2.5.29.17'), tlv(0x04, seq(tlv(0x87, Buffer.from([127, 0, 0, 1]))))))),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

const seq = (...content: Buffer[]): Buffer => tlv(0x30, ...content);
const set = (...content: Buffer[]): Buffer => tlv(0x31, ...content);

/** Eight random bytes, the first neither zero nor above 0x7f: DER forbids a padded or negative INTEGER. */
function serialNumber(): Buffer {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return tlv(0x02, bytes);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(ms: number): Buffer {
  // YYMMDDHHMMSSZ, from ISO 8601's YYYY-MM-DDTHH:MM:SS.
  const digits = new Date(ms).toISOString().slice(2, 19).replace(/\D/g, '');
  return tlv(0x17, Buffer.from(`${digits}Z`));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
