// Registers one measurement through the installed package's client and prints what came back.
import { connectEventer } from 'hat-event-ts';

const client = await connectEventer(process.argv[2], { subscriptions: [['tagged', '*']] });
try {
  const [event] = await client.registerWithResponse([
    { type: ['measurement', 'room1'], sourceTimestamp: null, payload: { type: 'json', data: 85 } },
  ]);
  const notified = await client.receive();
  const stored = await client.query({ types: [['tagged', '*']], order: 'ascending' });
  console.log(JSON.stringify({
    registered: event?.type,
    notified: notified.map((e) => ({ type: e.type, data: e.payload?.type === 'json' ? e.payload.data : null })),
    stored: stored.map((e) => e.type),
  }));
} finally {
  await client.close();
}
