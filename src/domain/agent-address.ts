import { BlockList, isIP } from 'node:net'

/**
 * Where an agent answers (contract §3, `PUT /v1/agents/{agent_id}`), checked once at registration
 * so that a registered address is always one the sweeper can and may call: the sweeper sends the
 * agent RPC (§5) to the address's origin, so the origin is what is stored.
 */

/** The blocks of `AGENT_ADDRESS_ALLOW`; only looked up, never changed. */
export type AgentAddressAllowList = Pick<BlockList, 'check'>

/** Why an address was refused. The message never repeats the address, which may hold a password. */
export class InvalidAgentAddressError extends Error {
  override readonly name = 'InvalidAgentAddressError'

  constructor (detail: string) {
    super(`address: ${detail}`)
  }
}

function blockListOf (cidrs: readonly string[]): BlockList {
  const blocks = new BlockList()
  for (const cidr of cidrs) {
    const [network = '', prefix = ''] = cidr.split('/')
    blocks.addSubnet(network, Number(prefix), isIP(network) === 6 ? 'ipv6' : 'ipv4')
  }
  return blocks
}

/** `AGENT_ADDRESS_ALLOW` (CIDR blocks such as `10.0.0.0/8` or `fd00::/8`, already validated by the configuration). */
export function agentAddressAllowList (cidrs: readonly string[]): AgentAddressAllowList {
  return blockListOf(cidrs)
}

// Refused with or without an allow list, even one that covers them: no agent is ever there, and a
// registration naming one would only aim the sweeper's calls elsewhere — above all at a cloud
// metadata service, which answers any request from the host. IPv4-mapped IPv6 forms
// (`[::ffff:169.254.169.254]`) match the IPv4 blocks.
const NEVER_AGENTS = ([
  ['0.0.0.0/8', 'an unspecified address'],
  ['::/128', 'an unspecified address'],
  ['169.254.0.0/16', 'link-local (where cloud metadata services answer)'],
  ['fe80::/10', 'link-local'],
  ['fd00:ec2::254/128', 'the AWS metadata service'],
  ['100.100.100.200/32', 'the Alibaba Cloud metadata service'],
  ['224.0.0.0/4', 'multicast'],
  ['ff00::/8', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
] as const).map(([cidr, what]) => ({ blocks: blockListOf([cidr]), what }))

function checkHost (hostname: string, allow: AgentAddressAllowList | null): void {
  const ip = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  const family = isIP(ip)
  if (family === 0) {
    // Whatever a name resolves to now, it may resolve elsewhere when the sweeper connects.
    if (allow !== null) throw new InvalidAgentAddressError(`${ip} is a host name; with AGENT_ADDRESS_ALLOW set the host must be an IP address, as a name cannot be checked without resolving it`)
    return
  }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const never = NEVER_AGENTS.find(({ blocks }) => blocks.check(ip, type))
  if (never !== undefined) throw new InvalidAgentAddressError(`${ip} is ${never.what}, never an agent`)
  if (allow !== null && !allow.check(ip, type)) throw new InvalidAgentAddressError(`${ip} is outside AGENT_ADDRESS_ALLOW`)
}

/**
 * The origin (`http(s)://host[:port]`, as WHATWG URL normalises it: host in lower case, IPv4 in
 * dotted decimal, default port left out) of an agent address, or `InvalidAgentAddressError`.
 * Refused: anything WHATWG URL cannot parse (a port above 65535 among them), another scheme than
 * http and https, a user name or password (the sweeper never sends them), a path, query or
 * fragment (the sweeper appends its own paths to the origin; a trailing `/` is allowed), port 0,
 * the addresses no agent is ever at, and with an allow list, a host that is not an IP address
 * inside it.
 */
export function normaliseAgentAddress (raw: string, allow: AgentAddressAllowList | null): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InvalidAgentAddressError('is not a URL of the form http(s)://host:port (a port is 1 to 65535)')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidAgentAddressError(`must be http or https, not ${url.protocol.slice(0, -1)}`)
  if (url.username !== '' || url.password !== '') throw new InvalidAgentAddressError('must not carry a user name or password')
  // WHATWG URL ends the host at a backslash: `http://a.example\@10.0.0.1` is host a.example, path `/@10.0.0.1`.
  if (url.href !== `${url.origin}/`) throw new InvalidAgentAddressError('must be only http(s)://host:port, without a path, query or fragment')
  if (url.port === '0') throw new InvalidAgentAddressError('port must be 1 to 65535')
  checkHost(url.hostname, allow)
  return url.origin
}
