// HMAC known-answer vectors.
// Source: RFC 4231, "Identifiers and Test Vectors for HMAC-SHA-224, HMAC-SHA-256, HMAC-SHA-384, and
// HMAC-SHA-512", §4.3 Test Case 2 (https://www.rfc-editor.org/rfc/rfc4231#section-4.3).

export const rfc4231TestCase2 = {
  /** "Jefe" */
  key: new TextEncoder().encode('Jefe'),
  data: 'what do ya want for nothing?',
  hmacSha256: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  hmacSha512:
    '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
} as const;
