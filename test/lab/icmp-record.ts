/** The fields of an icmp (or traceroute) record the lab's ICMP tests read from `vantage probe --json`. */
export interface IcmpRecord {
  ip: string;
  ok: boolean;
  error: { code: string; message: string } | null;
  sent: number;
  received: number;
  loss: number;
  rttMs: { min: number; median: number; max: number } | null;
  otherAddressReplies: Array<{ from: string; rttMs: number }>;
  reached?: boolean;
  hops?: Array<{ ttl: number; addresses: string[] }>;
}
