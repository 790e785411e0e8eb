import { describe, expect, it } from '@jest/globals';
import { ApiException } from '@kubernetes/client-node';
import { HeraldError, errorMessage, isConflict, isHeraldError, isNotFound, kubeError, statusCode } from './errors.js';

/** What client-node 1.4 throws for a non-2xx answer: the body is the Status as JSON text. */
const apiException = (code: number, message: string): ApiException<string> =>
  new ApiException(
    code,
    'Unknown API Status Code!',
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'x', code }),
    { 'content-type': 'application/json' },
  );

describe('statusCode', () => {
  it('reads the HTTP status of an ApiException, a Watch error and a Status object', () => {
    expect(statusCode(apiException(409, 'conflict'))).toBe(409);
    expect(statusCode(new ApiException(401, 'Unauthorized', undefined, {}))).toBe(401);
    expect(statusCode(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe(410);
    expect(statusCode({ kind: 'Status', code: 410, message: 'too old resource version' })).toBe(410);
  });

  it('follows cause chains and understands HeraldError codes', () => {
    expect(statusCode(new HeraldError('KubeApi', 'x', { cause: apiException(503, 'busy') }))).toBe(503);
    expect(statusCode(new Error('outer', { cause: new Error('mid', { cause: apiException(404, 'gone') }) }))).toBe(404);
    expect(statusCode(new HeraldError('Conflict', 'lost the race'))).toBe(409);
    expect(statusCode(new HeraldError('NotFound', 'no such lease'))).toBe(404);
  });

  it('does not take Node system error codes or junk for statuses', () => {
    expect(statusCode(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(statusCode({ code: 42, body: '' })).toBeUndefined();
    expect(statusCode(undefined)).toBeUndefined();
    expect(statusCode('409')).toBeUndefined();
    expect(statusCode(new HeraldError('Timeout', 'slow'))).toBeUndefined();
  });
});

describe('isConflict / isNotFound', () => {
  it('answers for ApiExceptions and wrapped ones', () => {
    expect(isConflict(apiException(409, 'the object has been modified'))).toBe(true);
    expect(isConflict(apiException(404, 'not found'))).toBe(false);
    expect(isNotFound(apiException(404, 'not found'))).toBe(true);
    expect(isNotFound(kubeError('read Lease a/b', apiException(404, 'not found')))).toBe(true);
    expect(isNotFound(new Error('404'))).toBe(false);
  });
});

describe('errorMessage', () => {
  it("extracts the API server's Status message, from JSON text or a parsed body", () => {
    const msg = 'leases.coordination.k8s.io "x" not found';
    expect(errorMessage(apiException(404, msg))).toBe(`HTTP 404: ${msg}`);
    expect(errorMessage(new ApiException(422, 'x', { kind: 'Status', message: 'invalid' }, {}))).toBe('HTTP 422: invalid');
    expect(errorMessage(new ApiException(502, 'x', '<html>bad gateway</html>', {}))).toBe('HTTP 502');
  });

  it('falls back to the message of other errors and to String()', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage({ kind: 'Status', message: 'too old resource version' })).toBe('too old resource version');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});

describe('HeraldError', () => {
  it('carries a code, a message with context, and the cause', () => {
    const cause = apiException(409, 'the object has been modified');
    const e = kubeError('replace Lease herald/ctl', cause);
    expect(e).toBeInstanceOf(HeraldError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('Conflict');
    expect(e.name).toBe('HeraldError');
    expect(e.message).toBe('replace Lease herald/ctl: HTTP 409: the object has been modified');
    expect(e.cause).toBe(cause);
    expect(kubeError('x', apiException(500, 'oops')).code).toBe('KubeApi');
    expect(kubeError('x', new Error('ECONNREFUSED')).code).toBe('KubeApi');
    expect(isHeraldError(e)).toBe(true);
    expect(isHeraldError(e, 'Conflict')).toBe(true);
    expect(isHeraldError(e, 'NotFound')).toBe(false);
    expect(isHeraldError(new Error('x'))).toBe(false);
  });
});
