/** `[2001:db8::1]` -> `2001:db8::1` (URL host names keep IPv6 brackets). */
export function stripBrackets(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** `ip:port`, with IPv6 addresses in brackets. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
