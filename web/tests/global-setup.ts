// Before the journeys: the first admin signs in (no organisation exists yet, so
// any address may) and adds the organisation every test member belongs to.
import { DOMAIN, apiSignIn } from './helpers';

export default async function globalSetup(): Promise<void> {
  const api = process.env.QNET_API_URL!;
  const { token } = await apiSignIn(`first.admin@${DOMAIN}`, 'admin');
  const orgs = (await (await fetch(`${api}/organisations`)).json()) as { items: { email_domains: string[] }[] };
  if (orgs.items.some((o) => o.email_domains.includes(DOMAIN))) return;
  const r = await fetch(`${api}/organisations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ name: 'Leeds Teaching Hospitals', type: 'nhs', ods_code: 'RR8', email_domains: [DOMAIN] }),
  });
  if (!r.ok) throw new Error(`could not add the test organisation: ${r.status} ${await r.text()}`);
}
