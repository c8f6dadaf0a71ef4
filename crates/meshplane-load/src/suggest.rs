//! "Did you mean" hints for misspelt field names.

/// The candidate closest to `word` within two edits (case-insensitive), if any.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

/// A hint to append to a message: ` (did you mean `x`?)`, or nothing.
pub fn hint(word: &str, candidates: &[&str]) -> String {
    closest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance (Damerau's transposition counted as one edit).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested() {
        let names = ["virtualNodeName", "virtualRouterName", "meshName"];
        assert_eq!(closest("virtualNodeNmae", &names), Some("virtualNodeName"));
        assert_eq!(closest("meshname", &names), Some("meshName"));
        assert_eq!(closest("spec", &names), None);
        assert_eq!(
            hint("VirtualNodeName", &names),
            " (did you mean `virtualNodeName`?)"
        );
    }
}
