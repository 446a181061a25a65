//! Search vectors written as tsvector literals, so that a registration does not pay for
//! PostgreSQL's text-search parser.
//!
//! A matter's search vector is `to_tsvector('simple', tokens)` of its jieba tokens
//! ([`xinfang_nlp::index_tokens`]: lowercased, alphanumerics only, separated by spaces) plus
//! its facet lexemes ([`super::search`]). `to_tsvector` runs the default parser's state machine
//! over every character and lowercases every word through the dictionary: 6.5 % of the
//! machine's CPU while registrations arrive as fast as they can (perf, 1,000,000 matters),
//! for tokens that are already words. Reading a literal (`'词':1,4 '3号楼':2 …`) is a scan
//! for quotes.
//!
//! The literal must be what `to_tsvector` would have made, lexeme for lexeme and position for
//! position, or a search would find a matter registered one way and miss one registered the
//! other (the bulk loader and the one-at-a-time path still call `to_tsvector`). That holds
//! for tokens made only of [`plain`] characters — ASCII lowercase letters, ASCII digits and
//! CJK ideographs — which the parser keeps together as one word in every locale and the
//! dictionary leaves as they are. A token of anything else (a Greek letter, a superscript
//! digit, which the parser splits or drops depending on the database's locale) makes
//! [`literal`] answer `None`, and that matter's vector is left to `to_tsvector`. The store
//! test `vector_literals_are_what_to_tsvector_makes` compares the two on the database the
//! tests run against.
//!
//! Positions follow `to_tsvector`: the n-th token is at position n, positions stop growing at
//! 16,383, and a lexeme keeps at most 255 distinct positions.

use std::fmt::Write;

/// The greatest position a tsvector holds (`MAXENTRYPOS - 1`): later words all sit there.
const LAST_POSITION: u16 = (1 << 14) - 1;

/// The most positions one lexeme keeps (`MAXNUMPOS - 1`, as `to_tsvector` keeps them).
const MOST_POSITIONS: usize = 255;

/// Longer words (in bytes) are dropped by `to_tsvector` with a notice ("words longer than
/// 2047 characters are ignored"): such a token is left to it.
const LONGEST_WORD: usize = 2_047;

/// A character the parser keeps inside a word in every locale, and no dictionary changes.
fn plain(c: char) -> bool {
    matches!(c,
        'a'..='z' | '0'..='9'
        | '\u{3400}'..='\u{4DBF}'   // CJK Unified Ideographs Extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK Unified Ideographs
        | '\u{F900}'..='\u{FAFF}'   // CJK Compatibility Ideographs
        | '\u{20000}'..='\u{3134F}' // Extensions B–G
    )
}

/// The tsvector literal of `tokens` (space-separated) and `facets` (lexemes without
/// positions), or `None` when a token is not made of [`plain`] characters only.
pub(super) fn literal(tokens: &str, facets: &[String]) -> Option<String> {
    // Every word with its position, and every facet with none (0), sorted by lexeme and then
    // position: in PostgreSQL's order (bytes, then length: `str`'s own), which its sort checks
    // first and then leaves alone. A registration runs this on ~135 words; a map of lexemes
    // cost twice as much as the sort.
    let mut words: Vec<(&str, u16)> = Vec::with_capacity(tokens.len() / 4 + facets.len());
    let mut position: u16 = 0;
    for token in tokens.split(' ').filter(|t| !t.is_empty()) {
        if token.len() > LONGEST_WORD || !token.chars().all(plain) {
            return None;
        }
        position = (position + 1).min(LAST_POSITION);
        words.push((token, position));
    }
    // Facets are `<kind>_<ASCII>`: nothing in them needs escaping, and no token holds a '_'.
    words.extend(facets.iter().map(|f| (f.as_str(), 0)));
    words.sort_unstable();
    let mut out = String::with_capacity(tokens.len() * 2 + facets.len() * 12);
    let mut rest = words.as_slice();
    while let Some(&(lexeme, _)) = rest.first() {
        let same = rest.iter().take_while(|(w, _)| *w == lexeme).count();
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('\'');
        out.push_str(lexeme);
        out.push('\'');
        // `to_tsvector` keeps a lexeme's first 255 positions, and none after the last position
        // (repeats of it are one).
        let (mut kept, mut last) = (0, 0);
        for &(_, p) in &rest[..same] {
            if p == 0 || kept == MOST_POSITIONS || last == LAST_POSITION {
                continue;
            }
            out.push(if kept == 0 { ':' } else { ',' });
            // Writing to a String cannot fail.
            let _ = write!(out, "{p}");
            kept += 1;
            last = p;
        }
        rest = &rest[same..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::{search, testing};
    use sqlx::Connection;
    use xinfang_core::matter::State;

    /// Real letters of 12345 hotlines (the CLI's routing fixture), one text per line.
    const LETTERS: &str = include_str!("../../../xinfang/tests/fixtures/routing_train.csv");

    /// On the database the tests run against: every literal is what `to_tsvector` and the
    /// facets make of the same tokens, for real letters and for tokens the parser treats as
    /// numbers, floats and mixed words; and most letters take the literal.
    #[tokio::test]
    async fn vector_literals_are_what_to_tsvector_makes() {
        let Some(url) = testing::test_url() else {
            return;
        };
        let mut texts: Vec<String> = LETTERS.lines().map(xinfang_nlp::index_tokens).collect();
        texts.push(
            "1e5 1ea abc123def 0x1f 123 2024年 v2 e 1e 3号楼 a区 𠀀字 豈 12345678901234567890123".into(),
        );
        texts.push(vec!["的"; 300].join(" "));
        // The longest word `to_tsvector` keeps.
        texts.push(format!("行李 {} 丢失", "a".repeat(LONGEST_WORD)));
        texts.push(
            (0..16_400)
                .map(|i| format!("w{}", i % 16_390))
                .collect::<Vec<_>>()
                .join(" ")
                + " z z",
        );
        let facets = search::facets(&State::Registered, 123_456);
        let (mut literals, mut tokens) = (Vec::new(), Vec::new());
        for t in &texts {
            if let Some(l) = literal(t, &facets) {
                literals.push(l);
                tokens.push(t.as_str());
            }
        }
        assert!(
            literals.len() * 10 >= texts.len() * 9,
            "only {} of {} texts take the literal",
            literals.len(),
            texts.len()
        );
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        let differing: Vec<(String, String)> = sqlx::query_as(
            "select l::tsvector::text, (to_tsvector('simple', t) || array_to_tsvector($3))::text
               from unnest($1::text[], $2::text[]) as x (l, t)
              where l::tsvector <> to_tsvector('simple', t) || array_to_tsvector($3)",
        )
        .bind(&literals)
        .bind(&tokens)
        .bind(&facets)
        .fetch_all(&mut conn)
        .await
        .expect("compare");
        assert!(
            differing.is_empty(),
            "literal, to_tsvector: {:?}",
            differing.first()
        );
    }

    #[test]
    fn words_take_their_positions_and_facets_none() {
        let facets = vec!["st_registered".to_string(), "sq_3".to_string()];
        assert_eq!(
            literal("行李 丢失 3号楼 行李", &facets).as_deref(),
            Some("'3号楼':3 'sq_3' 'st_registered' '丢失':2 '行李':1,4")
        );
    }

    #[test]
    fn empty_tokens_leave_only_the_facets() {
        assert_eq!(literal("", &["sb_0".to_string()]).as_deref(), Some("'sb_0'"));
        assert_eq!(literal("  ", &[]).as_deref(), Some(""));
    }

    #[test]
    fn tokens_the_parser_might_split_are_left_to_it() {
        // Uppercase, a superscript digit, a Greek letter, a quote: each could be read
        // differently by the parser or the dictionary, depending on the locale.
        for tokens in ["行李 Ab", "x²", "αβ", "it's", "中华 ﹏"] {
            assert_eq!(literal(tokens, &[]), None, "{tokens}");
        }
        assert_eq!(literal(&"字".repeat(LONGEST_WORD), &[]), None);
        // The longest word `to_tsvector` keeps is written; one byte more is left to it.
        assert!(literal(&"a".repeat(LONGEST_WORD), &[]).is_some());
        assert_eq!(literal(&"a".repeat(LONGEST_WORD + 1), &[]), None);
    }

    #[test]
    fn positions_stop_where_to_tsvector_stops_them() {
        // 300 repeats keep 255 positions.
        let many = vec!["的"; 300].join(" ");
        let lit = literal(&many, &[]).unwrap_or_default();
        assert_eq!(lit.matches(',').count(), MOST_POSITIONS - 1);
        // Past 16,383 words every position is the last one, kept once.
        let long: Vec<String> = (0..16_400).map(|i| format!("w{i}")).collect();
        let lit = literal(&format!("{} z z", long.join(" ")), &[]).unwrap_or_default();
        assert!(lit.ends_with("'z':16383"), "{}", &lit[lit.len() - 40..]);
        assert!(lit.contains("'w16382':16383 "));
        assert!(lit.contains("'w16383':16383 "));
        assert!(lit.contains("'w16399':16383 "));
        assert!(lit.contains("'w0':1 "));
    }
}
