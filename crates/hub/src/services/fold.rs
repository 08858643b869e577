//! Folding text for searches that ignore case and accents.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lowercase, with accents removed: "Chloé" and "CHLOE" both fold to "chloe".
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn case_and_accents_fold_away() {
        assert_eq!(fold("Chloé Martin"), "chloe martin");
        assert_eq!(fold("JOÃO"), "joao");
        assert_eq!(fold("Łukasz"), "łukasz");
        assert_eq!(fold(""), "");
    }
}
