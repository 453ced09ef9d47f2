import t from 'tap'
import { agentAddressAllowList, InvalidAgentAddressError, normaliseAgentAddress } from '../../src/domain/agent-address.js'

const ALLOW = agentAddressAllowList(['10.0.0.0/8', '127.0.0.1/32', 'fd00::/8'])

function refusal (raw: string, allow = ALLOW as typeof ALLOW | null): string {
  try {
    normaliseAgentAddress(raw, allow)
  } catch (error) {
    if (error instanceof InvalidAgentAddressError) return error.message
    throw error
  }
  throw new Error(`${raw} was accepted`)
}

t.test('the origin is stored, as WHATWG URL normalises it', async (t) => {
  const cases: Array<[string, string]> = [
    ['http://127.0.0.1:9101', 'http://127.0.0.1:9101'],
    ['http://127.0.0.1:9101/', 'http://127.0.0.1:9101'],
    ['HTTP://Agent-1.Example:9101', 'http://agent-1.example:9101'],
    ['http://agent.example:80', 'http://agent.example'],
    ['https://agent.example:443', 'https://agent.example'],
    ['https://agent.example:8443', 'https://agent.example:8443'],
    ['http://0x7f.1:9101', 'http://127.0.0.1:9101'],
    ['http://[::1]:9101', 'http://[::1]:9101'],
    ['http://[FD00:0::1]:9101', 'http://[fd00::1]:9101'],
    ['http://localhost:65535', 'http://localhost:65535'],
  ]
  for (const [raw, origin] of cases) t.equal(normaliseAgentAddress(raw, null), origin, raw)
})

t.test('what is not a URL the sweeper can call is refused, naming why', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['http://%zz', /^address: is not a URL/],
    ['http://a:99999', /^address: is not a URL .*1 to 65535/],
    ['http://', /^address: is not a URL/],
    ['127.0.0.1:9101', /^address: is not a URL/],
    ['agent.example:9101', /^address: must be http or https, not agent\.example$/],
    ['ftp://agent.example', /^address: must be http or https, not ftp$/],
    ['file:///etc/passwd', /^address: must be http or https, not file$/],
    ['http://agent.example:0', /^address: port must be 1 to 65535$/],
    ['http://agent.example/v1', /without a path, query or fragment/],
    ['http://agent.example?x=1', /without a path, query or fragment/],
    ['http://agent.example?', /without a path, query or fragment/],
    ['http://agent.example#top', /without a path, query or fragment/],
  ]
  for (const [raw, message] of cases) t.match(refusal(raw, null), message, raw)
})

t.test('credentials are refused, and never repeated in the message', async (t) => {
  for (const raw of ['http://user:secret@127.0.0.1:9101', 'http://user@127.0.0.1:9101', 'http://:secret@127.0.0.1:9101']) {
    const message = refusal(raw, null)
    t.equal(message, 'address: must not carry a user name or password', raw)
    t.notMatch(message, /secret|user@/, `${raw}: not echoed`)
  }
})

t.test('a backslash cannot make the stored address name one host and the origin another', async (t) => {
  // WHATWG URL reads this as host evil.example, path /@127.0.0.1:9 — not as 127.0.0.1.
  t.match(refusal('http://evil.example\\@127.0.0.1:9', null), /without a path, query or fragment/)
  t.match(refusal('http://127.0.0.1:9\\@evil.example', null), /without a path, query or fragment/)
})

t.test('link-local, metadata, unspecified, multicast and broadcast addresses are never agents, allow list or not', async (t) => {
  const cases: Array<[string, string]> = [
    ['http://169.254.169.254', '169.254.169.254 is link-local (where cloud metadata services answer), never an agent'],
    ['http://169.254.0.1:9101', '169.254.0.1 is link-local (where cloud metadata services answer), never an agent'],
    ['http://[::ffff:169.254.169.254]', '::ffff:a9fe:a9fe is link-local (where cloud metadata services answer), never an agent'],
    ['http://0xa9fea9fe', '169.254.169.254 is link-local (where cloud metadata services answer), never an agent'],
    ['http://[fe80::1]:9101', 'fe80::1 is link-local, never an agent'],
    ['http://[fd00:ec2::254]', 'fd00:ec2::254 is the AWS metadata service, never an agent'],
    ['http://100.100.100.200', '100.100.100.200 is the Alibaba Cloud metadata service, never an agent'],
    ['http://0.0.0.0:9101', '0.0.0.0 is an unspecified address, never an agent'],
    ['http://[::]:9101', ':: is an unspecified address, never an agent'],
    ['http://224.0.0.1:9101', '224.0.0.1 is multicast, never an agent'],
    ['http://[ff02::1]:9101', 'ff02::1 is multicast, never an agent'],
    ['http://255.255.255.255:9101', '255.255.255.255 is broadcast, never an agent'],
  ]
  const everything = agentAddressAllowList(['0.0.0.0/0', '::/0'])
  for (const [raw, why] of cases) {
    t.equal(refusal(raw, null), `address: ${why}`, `${raw} without an allow list`)
    t.equal(refusal(raw, everything), `address: ${why}`, `${raw} with an allow list covering it`)
  }
})

t.test('with AGENT_ADDRESS_ALLOW, only IP addresses inside its blocks', async (t) => {
  t.equal(normaliseAgentAddress('http://10.1.2.3:9101', ALLOW), 'http://10.1.2.3:9101')
  t.equal(normaliseAgentAddress('http://127.0.0.1:9101', ALLOW), 'http://127.0.0.1:9101')
  t.equal(normaliseAgentAddress('https://[fd12::7]:9101', ALLOW), 'https://[fd12::7]:9101')
  t.equal(normaliseAgentAddress('http://[::ffff:10.0.0.1]:9101', ALLOW), 'http://[::ffff:a00:1]:9101', 'IPv4-mapped IPv6 in an IPv4 block')
  t.equal(refusal('http://192.168.1.5:9101'), 'address: 192.168.1.5 is outside AGENT_ADDRESS_ALLOW')
  t.equal(refusal('http://127.0.0.2:9101'), 'address: 127.0.0.2 is outside AGENT_ADDRESS_ALLOW')
  t.equal(refusal('http://[fe00::1]:9101'), 'address: fe00::1 is outside AGENT_ADDRESS_ALLOW')
  t.match(refusal('http://agent.example:9101'), /^address: agent\.example is a host name; with AGENT_ADDRESS_ALLOW set the host must be an IP address/)
  t.match(refusal('http://localhost:9101'), /^address: localhost is a host name/, 'even one that usually means loopback')
  t.equal(normaliseAgentAddress('http://agent.example:9101', null), 'http://agent.example:9101', 'without the list, names are taken')
})
