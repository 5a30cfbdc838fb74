import { clientErrorFor, rawErrorResponse } from '../../src/http/client-error.js';
import { HttpError } from '../../src/http/http-errors.js';

describe('clientErrorFor', () => {
  it.each([
    [{ code: 'HPE_HEADER_OVERFLOW' }, 431, 'headers_too_large'],
    [{ code: 'ERR_HTTP_REQUEST_TIMEOUT' }, 408, 'request_timeout'],
    [{ code: 'HPE_INVALID_METHOD', rawPacket: Buffer.from('FOO / HTTP/1.1\r\nHost: a\r\n\r\n') }, 405, 'method_not_allowed'],
    [{ code: 'HPE_INVALID_METHOD', rawPacket: Buffer.from('garbage\r\n\r\n') }, 400, 'bad_request'],
    [{ code: 'HPE_INVALID_HEADER_TOKEN' }, 400, 'bad_request'],
    [{}, 400, 'bad_request'],
  ])('answers %j with %i %s', (facts, status, code) => expect(clientErrorFor(facts)).toMatchObject({ status, code }));

  it('names the method it does not take and lists the ones it does', () => {
    const error = clientErrorFor({ code: 'HPE_INVALID_METHOD', rawPacket: 'BREW /pot HTTP/1.1\r\n\r\n' });
    expect(error.message).toBe('BREW is not a method this route takes; it takes GET, HEAD, POST, OPTIONS.');
    expect(error.headers).toEqual({ Allow: 'GET, HEAD, POST, OPTIONS' });
  });
});

describe('rawErrorResponse', () => {
  it('is a whole HTTP/1.1 response with a JSON body, its length and Connection: close', () =>
    expect(rawErrorResponse(new HttpError(431, 'headers_too_large', 'Too big.'))).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large\r\n' +
        'Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n' +
        'Content-Type: application/json; charset=utf-8\r\nContent-Length: 59\r\nConnection: close\r\n\r\n' +
        '{"error":{"code":"headers_too_large","message":"Too big."}}',
    ));
});
