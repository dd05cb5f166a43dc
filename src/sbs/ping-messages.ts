// Module `HatPing` of hat-chatter (spec/protocol.md 2.3): keep-alive messages without data.
export const PING_MODULE = 'HatPing';

export const PingMsg = { ping: 'MsgPing', pong: 'MsgPong' } as const;
