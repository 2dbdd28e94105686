// Customer- and operator-supplied text must not reorder the words around it (a name holding U+202E RIGHT-TO-LEFT
// OVERRIDE would turn "… en" into "… ne"): such text is set inside a first-strong isolate (FSI … PDI, Unicode
// UAX #9 §2.7), with its own unbalanced isolate controls evened out first so that the closing PDI is really ours.
// Inside that isolate an embedding or override (LRE RLE PDF LRO RLO) or a directional isolate (LRI RLI) would still
// reorder the text itself ("\u202Eevil\u202C" reads "live"), so those are shown as U+FFFD: the operator sees that
// something was there and reads the characters in the order the customer sent them.

// Explicit controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI), marks (LRM RLM ALM) and right-to-left scripts.
const NEEDS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]|[\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;
const ISOLATES = /[\u2066-\u2069]/gu;
const PDI = '\u2069';
// FSI (U+2068) and PDI stay (balanced): an FSI takes the direction of its first strong letter, as dir="auto" does,
// so a balanced pair reorders nothing the customer did not write; LRI/RLI force a direction and are replaced.
const FORCING = /[\u202A-\u202E\u2066\u2067]/gu;
const SHOWN = '\uFFFD';

/** `text` with the controls that force a direction (U+202A–U+202E, U+2066, U+2067) replaced by U+FFFD. */
export function neutralise(text) {
  return String(text).replace(FORCING, SHOWN);
}

/** Balance the text's own isolate initiators (LRI/RLI/FSI) and PDIs: unmatched PDIs dropped, open ones closed. */
function balanced(text) {
  let open = 0;
  const out = text.replace(ISOLATES, (ch) => {
    if (ch !== PDI) {
      open += 1;
      return ch;
    }
    if (!open) return '';
    open -= 1;
    return ch;
  });
  return out + PDI.repeat(open);
}

/** `text` isolated from its surroundings when it could affect them (right-to-left letters, bidi controls); else as is. */
export function isolate(text) {
  const value = String(text);
  return NEEDS.test(value) ? `\u2068${balanced(neutralise(value))}${PDI}` : value;
}
