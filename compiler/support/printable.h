// compiler/support/printable.h - text from input files made safe to print.
//
// A model's name, a neuron's name or a zip member's name comes from a file and may hold
// terminal control characters (ESC sequences, BEL, NUL), bidirectional overrides (U+202E
// makes a terminal show text reversed) or bytes that are not UTF-8. Printed raw they can
// rewrite the user's terminal or disguise a message; printable() escapes them.
#pragma once

#include <string>

namespace hamux {

// `text` with every control character (C0, DEL, C1), bidirectional control (U+200E, U+200F,
// U+202A-U+202E, U+2066-U+2069) and byte that is not part of valid UTF-8 replaced by an
// escape: "\x1b", "\u202e". Printable ASCII and valid UTF-8 are kept; with keep_newlines a
// '\n' is kept too (for multi-line messages).
std::string printable(const std::string& text, bool keep_newlines = false);

}  // namespace hamux
