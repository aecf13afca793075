// What may go onto the wire in a request this harness writes: a method, a
// path, header names and values, checked once here for every flag and config
// field that reaches a request (--path, --long, --stream, --ready http:,
// --request, a config file's requests and headers). A CR or LF in any of
// them would end the line and start another request of the caller's making
// (request splitting); a NUL or a non-ASCII byte is not HTTP/1.1 either.
// Each function returns what is wrong in words, or undefined: the caller
// names the flag.

/** RFC 9110's token: a method or a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** An origin-form request target: a slash, then visible ASCII (RFC 9112; anything else is percent-encoded). */
const PATH = /^\/[\x21-\x7e]*$/;
/** RFC 9110 field-value: visible characters, spaces, tabs, and obs-text; no CR, LF, NUL or other control. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function methodProblem(method: string): string | undefined {
  return TOKEN.test(method)
    ? undefined
    : `${JSON.stringify(method)} is not an HTTP method (an RFC 9110 token); use e.g. GET or POST`;
}

export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return `${JSON.stringify(path)} is not a path: give one that starts with /`;
  if (!PATH.test(path))
    return `${JSON.stringify(path)} holds a space, a control character (CR, LF, NUL...) or a non-ASCII one; percent-encode it`;
  return undefined;
}

export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `the header name ${JSON.stringify(name)} is not an RFC 9110 token`;
  if (!FIELD_VALUE.test(value))
    return `the value of header ${name} holds a control character (CR, LF, NUL...): it cannot go onto the wire`;
  return undefined;
}
