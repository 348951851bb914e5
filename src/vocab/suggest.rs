//! "Did you mean …?": the nearest known name to a misspelt one.

/// The known name nearest to `name`, if one is at most two edits away (or a third of its
/// length, for long names); ties go to the first in `known`. Case is ignored when measuring, so
/// `eaddrinuse` finds `EADDRINUSE`.
pub fn nearest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Long inputs are not names anyone misspelt; measuring them would only cost time.
    if name.len() > 64 {
        return None;
    }
    let allowed = (name.chars().count() / 3).max(2);
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in known {
        if candidate == name || candidate.len() > 64 {
            continue;
        }
        let distance = edit_distance(&lower, &candidate.to_ascii_lowercase());
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, known)| known)
}

/// `" (did you mean `x`?)"` for the nearest known name, or nothing.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, known).map_or_else(String::new, |k| format!(" (did you mean `{k}`?)"))
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_name_is_suggested() {
        assert_eq!(nearest("lisen", ["listen", "close"]), Some("listen"));
        assert_eq!(
            nearest("ECONREFUSED", ["ECONNREFUSED"]),
            Some("ECONNREFUSED")
        );
        assert_eq!(nearest("eaddrinuse", ["EADDRINUSE"]), Some("EADDRINUSE"));
        assert_eq!(nearest("frobnicate", ["listen", "close"]), None);
    }
}
