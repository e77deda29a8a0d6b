/**
 * The order of an NC's deliveries to a record-keeping notifier: an event retried after a newer one
 * of its NC was delivered is told it is superseded, whatever the width of the ids' numbers.
 */
import { describe, expect, it } from 'vitest';
import { dropPrefix, testPrefix } from '../bench/programs/redis.js';
import { privateRedis } from './helpers/suites.js';
import { DeliveryOrder, eventOrder } from '../src/delivery-order.js';
import { eventOf } from './helpers/grc-events.js';
import { openNc } from './helpers/nc.js';

const event = (id: string, nc = openNc()) => ({ ...eventOf('nc.occurrence', nc), id: `${nc.id}.${id}` });

describe('delivery order', () => {
  const redis = privateRedis();

  it('sorts event ids as Redis sorts their timeline entry ids', () => {
    const ids = ['999-12', '1000-0', '1000-2', '1000-10', '1796655985820-0', '1796655985820-1'];
    const orders = ids.map((id) => eventOrder(`NC-2026-0042.${id}`));
    expect([...orders].sort()).toEqual(orders);
    expect(eventOrder('NC-2026-0042')).toBeNull();
    expect(eventOrder('NC-2026-0042.not-an-entry')).toBeNull();
  });

  it('tells a delivery that comes after a newer one of its NC, and only of that NC and notifier', async () => {
    const prefix = testPrefix();
    const order = new DeliveryOrder(redis.client, prefix);
    try {
      await order.delivered('probo', event('1796655985820-1'));
      expect(await order.superseded('probo', event('1796655985820-0'))).toBe(true);
      expect(await order.superseded('probo', event('999-5'))).toBe(true);
      expect(await order.superseded('probo', event('1796655985820-1'))).toBe(false);
      expect(await order.superseded('probo', event('1796655985821-0'))).toBe(false);
      expect(await order.superseded('tickets', event('1796655985820-0'))).toBe(false);
      expect(await order.superseded('probo', event('1796655985820-0', { ...openNc(), id: 'NC-2026-0043' }))).toBe(false);

      // A late delivery does not move the newest back.
      await order.delivered('probo', event('1796655985820-0'));
      expect(await order.superseded('probo', event('1796655985820-0'))).toBe(true);
      // An id of another shape is never superseded and leaves the newest as it is.
      await order.delivered('probo', event('manual'));
      expect(await order.superseded('probo', event('manual'))).toBe(false);
      expect(await order.superseded('probo', event('1796655985820-0'))).toBe(true);
    } finally {
      await dropPrefix(redis.client, prefix);
    }
  });
});
