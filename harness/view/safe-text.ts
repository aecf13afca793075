// Text from the target (a restart's stderr, a header, a stream's field, a
// container's log) is someone else's: it reaches a terminal, an XML file, a
// job page. Each medium has its own way of being turned against its reader,
// so each has its one function here, and every view sends what it did not
// write itself through it.

/** Escape sequences a terminal acts on: CSI (colours, cursor moves), OSC (window titles, links), and the two-byte ones. */
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
/** C0 and C1 controls but tab and newline: a lone carriage return overwrites the line, a backspace rubs out what came before. */
const TERMINAL_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** For a terminal: escape sequences and control characters removed, tabs and newlines kept. */
export function forTerminal(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(TERMINAL_CONTROL, '');
}

/** Characters XML 1.0 does not allow anywhere, escaped or not: a file holding one is not XML. */
const NOT_XML = /[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** For an XML attribute in double quotes, or text: what XML forbids removed (escape sequences first, whole), the rest escaped. */
export function forXml(text: unknown): string {
  return String(text)
    .replace(ESCAPE_SEQUENCE, '')
    .replace(NOT_XML, '')
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * For a cell of a Markdown table that a job page renders (GitHub's step
 * summary renders HTML too): no raw HTML (< and > as entities), no link or
 * image ([ and ] escaped), no pipe or newline to break the table, and no
 * backslash of the target's to undo these escapes; terminal escapes gone.
 * Ordinary text is left as it is.
 */
export function forMarkdownCell(text: string): string {
  return forTerminal(text)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([|[\]])/g, '\\$1');
}
