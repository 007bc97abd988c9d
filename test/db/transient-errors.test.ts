import { describe, expect, it } from 'vitest';
import { isTransientDbError } from '../../src/db/apply-transaction.js';

const withCode = (code: string) => Object.assign(new Error('x'), { code });

describe('isTransientDbError: what is retried with backoff', () => {
  it.each([
    ['a serialization failure', withCode('40001')],
    ['a deadlock', withCode('40P01')],
    ['a server shutting down (a restart)', withCode('57P01')],
    ['a connection exception class 08', withCode('08006')],
    ['a refused TCP connection', withCode('ECONNREFUSED')],
    ['a connection ended by the server', new Error('Connection terminated unexpectedly')],
    ['a query on a client whose connection already broke', new Error('Client has encountered a connection error and is not queryable')],
    ['a pool that could not hand out a connection in time', new Error('Knex: Timeout acquiring a connection. The pool is probably full.')],
  ])('retries %s', (_what, err) => {
    expect(isTransientDbError(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['a syntax error', withCode('42601')],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['nothing thrown at all', undefined],
  ])('does not retry %s', (_what, err) => {
    expect(isTransientDbError(err)).toBe(false);
  });
});
