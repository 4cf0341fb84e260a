// The Kubernetes Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
// v1.33), "baseline" and "restricted", as checks on a rendered pod template: each rule by its name in
// the standard, returning what breaks it, so a test can say which rule a chart change broke.

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: Array<{ name: string; value: string }>;
}

interface ContainerSpec {
  name: string;
  securityContext?: SecurityContext;
  ports?: Array<{ name?: string; containerPort?: number; hostPort?: number }>;
}

export interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec: {
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    securityContext?: SecurityContext;
    containers: ContainerSpec[];
    initContainers?: ContainerSpec[];
    ephemeralContainers?: ContainerSpec[];
    volumes?: Array<Record<string, unknown> & { name: string }>;
  };
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

type Rule = (pod: PodTemplate, containers: ContainerSpec[]) => string[];
const each = (containers: ContainerSpec[], bad: (c: ContainerSpec) => string | undefined): string[] =>
  containers.map(bad).filter((v): v is string => v !== undefined);

/** Every rule of "baseline" then "restricted", by its name in the standard. */
export const POD_SECURITY_RULES: ReadonlyArray<readonly [string, Rule]> = [
  [
    'HostProcess',
    (pod, cs) => [
      ...(pod.spec.securityContext?.windowsOptions?.hostProcess ? ['pod hostProcess'] : []),
      ...each(cs, (c) => (c.securityContext?.windowsOptions?.hostProcess ? `${c.name} hostProcess` : undefined)),
    ],
  ],
  ['Host Namespaces', (pod) => (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => pod.spec[k] === true)],
  ['Privileged Containers', (_p, cs) => each(cs, (c) => (c.securityContext?.privileged ? c.name : undefined))],
  [
    'Capabilities (baseline)',
    (_p, cs) =>
      cs.flatMap((c) => (c.securityContext?.capabilities?.add ?? []).filter((a) => !BASELINE_CAPABILITIES.has(a))),
  ],
  ['HostPath Volumes', (pod) => (pod.spec.volumes ?? []).filter((v) => 'hostPath' in v).map((v) => v.name)],
  [
    'Host Ports',
    (_p, cs) => cs.flatMap((c) => (c.ports ?? []).filter((p) => (p.hostPort ?? 0) !== 0).map(() => c.name)),
  ],
  [
    'AppArmor',
    (pod, cs) => [
      ...[pod.spec.securityContext, ...cs.map((c) => c.securityContext)]
        .map((sc) => sc?.appArmorProfile?.type)
        .filter((t): t is string => t !== undefined && t !== 'RuntimeDefault' && t !== 'Localhost'),
      ...Object.entries(pod.metadata?.annotations ?? {})
        .filter(([k]) => k.startsWith('container.apparmor.security.beta.kubernetes.io/'))
        .filter(([, v]) => v !== 'runtime/default' && !v.startsWith('localhost/'))
        .map(([k]) => k),
    ],
  ],
  [
    'SELinux',
    (pod, cs) =>
      [pod.spec.securityContext, ...cs.map((c) => c.securityContext)]
        .map((sc) => sc?.seLinuxOptions)
        .filter((o) => o && (!SELINUX_TYPES.has(o.type ?? '') || o.user !== undefined || o.role !== undefined))
        .map((o) => JSON.stringify(o)),
  ],
  [
    '/proc Mount Type',
    (_p, cs) => each(cs, (c) => ((c.securityContext?.procMount ?? 'Default') !== 'Default' ? c.name : undefined)),
  ],
  [
    'Seccomp (baseline)',
    (pod, cs) =>
      [pod.spec.securityContext, ...cs.map((c) => c.securityContext)]
        .filter((sc) => sc?.seccompProfile?.type === 'Unconfined')
        .map(() => 'Unconfined'),
  ],
  [
    'Sysctls',
    (pod) => (pod.spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !SAFE_SYSCTLS.has(n)),
  ],
  [
    'Volume Types',
    (pod) =>
      (pod.spec.volumes ?? []).flatMap((v) =>
        Object.keys(v)
          .filter((k) => k !== 'name' && !RESTRICTED_VOLUMES.has(k))
          .map((k) => `${v.name}: ${k}`),
      ),
  ],
  [
    'Privilege Escalation',
    (_p, cs) => each(cs, (c) => (c.securityContext?.allowPrivilegeEscalation === false ? undefined : c.name)),
  ],
  [
    'Running as Non-root',
    (pod, cs) =>
      each(cs, (c) => {
        const own = c.securityContext?.runAsNonRoot;
        return own === true || (own === undefined && pod.spec.securityContext?.runAsNonRoot === true)
          ? undefined
          : c.name;
      }),
  ],
  [
    'Running as Non-root user',
    (pod, cs) => [
      ...(pod.spec.securityContext?.runAsUser === 0 ? ['pod'] : []),
      ...each(cs, (c) => (c.securityContext?.runAsUser === 0 ? c.name : undefined)),
    ],
  ],
  [
    'Seccomp (restricted)',
    (pod, cs) =>
      each(cs, (c) => {
        const type = c.securityContext?.seccompProfile?.type ?? pod.spec.securityContext?.seccompProfile?.type;
        return type === 'RuntimeDefault' || type === 'Localhost' ? undefined : c.name;
      }),
  ],
  [
    'Capabilities (restricted)',
    (_p, cs) =>
      each(cs, (c) => {
        const caps = c.securityContext?.capabilities;
        const dropsAll = caps?.drop?.includes('ALL') ?? false;
        const addsOnly = (caps?.add ?? []).every((a) => a === 'NET_BIND_SERVICE');
        return dropsAll && addsOnly ? undefined : c.name;
      }),
  ],
];

/** The rules `pod` breaks, each with what breaks it; empty when it passes "restricted". */
export function podSecurityViolations(pod: PodTemplate): Record<string, string[]> {
  const containers = [
    ...pod.spec.containers,
    ...(pod.spec.initContainers ?? []),
    ...(pod.spec.ephemeralContainers ?? []),
  ];
  const out: Record<string, string[]> = {};
  for (const [name, rule] of POD_SECURITY_RULES) {
    const found = rule(pod, containers);
    if (found.length > 0) out[name] = found;
  }
  return out;
}
