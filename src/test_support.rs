//! Helpers shared by the unit tests of the parsers.

/// Deterministic pseudo-random strings over an alphabet of the grammar's own pieces and
/// multi-byte characters: nothing may panic.
pub(crate) fn odd_inputs() -> Vec<String> {
    let pieces = [
        "/rollback",
        " ",
        "\n",
        "\r",
        "\t",
        "in",
        "to",
        "back",
        "plan",
        "help",
        "api",
        "1.2.3",
        "é",
        "ａ",
        "\u{feff}",
        "::",
        "##[",
        "<<",
        "=",
        "${{",
        "}}",
        "inputs.",
        "rollback_id",
        ":",
        "-",
        "[",
        "]",
        "{",
        "}",
        "0",
        "`",
        "$(",
        "EOF",
        "\u{1F680}",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    (0..3000)
        .map(|_| {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for k in 0..(seed % 12) {
                let idx = ((seed >> (k * 5)) as usize) % pieces.len();
                s.push_str(pieces[idx]);
            }
            s
        })
        .collect()
}
