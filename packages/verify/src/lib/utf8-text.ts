const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, returning `null` for ill-formed input instead of substituting U+FFFD. */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * True when `text` holds an ASCII control character (below U+0020), other than LF when `allowNewline`
 * is set. This is the set c2sp.org/signed-note forbids; DEL (U+007F) is not in it.
 */
export function hasControlCharacter(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}
