// Module `HatPing` of hat-chatter (docs/protocol.md, "Ping"): keep-alive messages without data.
export const PING_MODULE = 'HatPing';

export const PingMsg = { ping: 'MsgPing', pong: 'MsgPong' } as const;
