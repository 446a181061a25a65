//! Segmentation: jieba, built once, and the token streams for search.
//!
//! `Jieba::new()` costs 100–175 ms and ~33 MB, so one instance is built lazily and shared by
//! every thread. Indexing uses jieba's search mode (`cut_for_search`), which emits a long word
//! and its shorter parts (机场大巴 → 机场, 大巴, 机场大巴), so a query for either part finds it.
//! Queries use the ordinary mode, and every query token must match.

use jieba_rs::Jieba;
use std::sync::LazyLock;

pub(crate) static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Forces the dictionary to load now (at server start) instead of on the first request.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// Normalises text for matching: full-width ASCII to half-width, ASCII letters to lower case,
/// the ideographic space to a plain space.
pub fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a token carries meaning for search (not punctuation or white space).
fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

/// The tokens to index for `text`, space-separated, in search mode. Characters that a search
/// index would treat as syntax (quotes, stars, punctuation) never reach it.
pub fn index_tokens(text: &str) -> String {
    let norm = normalise(text);
    let mut out = String::with_capacity(norm.len() + norm.len() / 2);
    for t in JIEBA.cut_for_search(&norm, true) {
        let w = t.word;
        if is_word(w) {
            let clean: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&clean);
        }
    }
    out
}

/// The tokens of a search query; each must match. At most 16 are kept so a pasted essay
/// cannot become a pathological query.
pub fn query_tokens(query: &str) -> Vec<String> {
    let norm = normalise(query);
    let mut out: Vec<String> = JIEBA
        .cut(&norm, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| is_word(w))
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    out.dedup();
    out.truncate(16);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_contains_query_tokens() {
        let idx = index_tokens("夜间航班落地后机场大巴已停运，希望增开线路！");
        let words: Vec<&str> = idx.split(' ').collect();
        for q in query_tokens("机场大巴停运") {
            assert!(words.contains(&q.as_str()), "{q} missing from {idx}");
        }
        assert!(!idx.contains('，'));
    }

    #[test]
    fn full_width_is_normalised() {
        assert_eq!(normalise("ＭＵ５７１２航班"), "mu5712航班");
        assert_eq!(query_tokens("ＭＵ５７１２"), vec!["mu5712".to_string()]);
    }

    #[test]
    fn query_syntax_is_stripped() {
        let q = query_tokens("\"停车\" OR *收费*");
        assert!(q.iter().all(|t| t.chars().all(char::is_alphanumeric)));
    }
}
